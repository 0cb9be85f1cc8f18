/** Small hand-drawn SVG charts for comparing runs: a param-vs-metric scatter and parallel coordinates. */
import { seriesColor } from "../lib/colors";
import { fmtNum } from "../lib/format";

export interface Point {
  label: string;
  x: number | string | null;
  y: number | null;
  color?: string;
}

function scale(values: number[], lo: number, hi: number): (v: number) => number {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  return (v) => lo + ((v - min) / span) * (hi - lo);
}

/** Numbers on a linear x axis; text values as evenly spaced categories. */
export function Scatter({ points, xLabel, yLabel, width = 460, height = 280 }: {
  points: Point[];
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}) {
  const pts = points.filter((p) => p.y !== null && Number.isFinite(p.y) && p.x !== null);
  if (pts.length === 0) return <div className="muted">No run has both values.</div>;
  const numeric = pts.every((p) => typeof p.x === "number");
  const cats = numeric ? [] : [...new Set(pts.map((p) => String(p.x)))].sort();
  const m = { l: 56, r: 12, t: 10, b: 38 };
  const ys = pts.map((p) => p.y as number);
  const sy = scale(ys, height - m.b, m.t);
  const sx = numeric
    ? scale(pts.map((p) => p.x as number), m.l + 8, width - m.r - 8)
    : (v: number) => m.l + ((v + 0.5) / cats.length) * (width - m.l - m.r);
  // Runs with the same text value are spread a little sideways so none hides another.
  const seen = new Map<string, number>();
  const jitter = pts.map((p) => {
    const k = `${p.x}|${p.y}`;
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return n === 0 ? 0 : (n % 2 ? 1 : -1) * Math.ceil(n / 2) * 9;
  });
  const xOf = (p: Point, i: number) => (numeric ? sx(p.x as number) : sx(cats.indexOf(String(p.x)))) + jitter[i];
  const yMin = Math.min(...ys), yMax = Math.max(...ys);
  const xs = numeric ? pts.map((p) => p.x as number) : [];
  return (
    <svg width={width} height={height} role="img" aria-label={`${yLabel} against ${xLabel}`} style={{ background: "#fff" }}>
      <line x1={m.l} y1={height - m.b} x2={width - m.r} y2={height - m.b} stroke="#c9ced6" />
      <line x1={m.l} y1={m.t} x2={m.l} y2={height - m.b} stroke="#c9ced6" />
      <text x={m.l - 6} y={m.t + 8} fontSize="10" textAnchor="end" fill="#667085">{fmtNum(yMax, 3)}</text>
      <text x={m.l - 6} y={height - m.b} fontSize="10" textAnchor="end" fill="#667085">{fmtNum(yMin, 3)}</text>
      {numeric ? (
        <>
          <text x={m.l + 8} y={height - m.b + 14} fontSize="10" fill="#667085">{fmtNum(Math.min(...xs), 3)}</text>
          <text x={width - m.r - 8} y={height - m.b + 14} fontSize="10" textAnchor="end" fill="#667085">{fmtNum(Math.max(...xs), 3)}</text>
        </>
      ) : (
        cats.map((c, i) => (
          <text key={c} x={sx(i)} y={height - m.b + 14} fontSize="10" textAnchor="middle" fill="#667085">{c}</text>
        ))
      )}
      <text x={(width + m.l) / 2} y={height - 6} fontSize="11" textAnchor="middle" fill="#1d2330">{xLabel}</text>
      <text x={12} y={(height - m.b) / 2} fontSize="11" textAnchor="middle" fill="#1d2330" transform={`rotate(-90 12 ${(height - m.b) / 2})`}>{yLabel}</text>
      {pts.map((p, i) => (
        <circle key={i} cx={xOf(p, i)} cy={sy(p.y as number)} r={5} fill={p.color ?? seriesColor(i)} fillOpacity={0.8} stroke="#fff">
          <title>{`${p.label}: ${xLabel}=${fmtNum(p.x)} ${yLabel}=${fmtNum(p.y)}`}</title>
        </circle>
      ))}
    </svg>
  );
}

export interface Axis {
  label: string;
  values: (number | string | null | undefined)[];
}

/** One vertical axis per param/metric, one polyline per run. Text axes are spaced categories. */
export function ParallelCoords({ axes, runs, width = 900, height = 300 }: {
  axes: Axis[];
  runs: { name: string; color: string }[];
  width?: number;
  height?: number;
}) {
  if (axes.length < 2) return <div className="muted">Choose at least two axes.</div>;
  const m = { l: 70, r: 70, t: 24, b: 24 };
  const step = (width - m.l - m.r) / (axes.length - 1);
  const mapped = axes.map((a) => {
    const present = a.values.filter((v) => v !== null && v !== undefined) as (number | string)[];
    const numeric = present.every((v) => typeof v === "number" && Number.isFinite(v));
    if (numeric && present.length) {
      const nums = present as number[];
      const min = Math.min(...nums), max = Math.max(...nums);
      const f = (v: number) => height - m.b - ((v - min) / (max - min || 1)) * (height - m.t - m.b);
      return { pos: a.values.map((v) => (typeof v === "number" && Number.isFinite(v) ? f(v) : null)), lo: fmtNum(min, 3), hi: fmtNum(max, 3) };
    }
    const cats = [...new Set(present.map(String))].sort();
    const f = (v: string) => height - m.b - ((cats.indexOf(v) + 0.5) / cats.length) * (height - m.t - m.b);
    return { pos: a.values.map((v) => (v === null || v === undefined ? null : f(String(v)))), lo: cats[0] ?? "", hi: cats[cats.length - 1] ?? "" };
  });
  return (
    <svg width={width} height={height} style={{ background: "#fff" }} role="img" aria-label="parallel coordinates">
      {axes.map((a, i) => (
        <g key={a.label}>
          <line x1={m.l + i * step} x2={m.l + i * step} y1={m.t} y2={height - m.b} stroke="#c9ced6" />
          <text x={m.l + i * step} y={12} fontSize="11" textAnchor="middle">
            {a.label.length > 22 ? "…" + a.label.slice(-21) : a.label}
            <title>{a.label}</title>
          </text>
          <text x={m.l + i * step + 3} y={m.t + 8} fontSize="9" fill="#667085">{mapped[i].hi}</text>
          <text x={m.l + i * step + 3} y={height - m.b + 12} fontSize="9" fill="#667085">{mapped[i].lo}</text>
        </g>
      ))}
      {runs.map((r, j) => {
        const pts = mapped.map((mm, i) => (mm.pos[j] === null ? null : `${m.l + i * step},${mm.pos[j]}`));
        const segs: string[][] = [[]];
        pts.forEach((p) => (p === null ? segs.push([]) : segs[segs.length - 1].push(p)));
        return segs.filter((s) => s.length > 1).map((s, k) => (
          <polyline key={`${j}-${k}`} points={s.join(" ")} fill="none" stroke={r.color} strokeWidth={1.6} strokeOpacity={0.85}>
            <title>{r.name}</title>
          </polyline>
        ));
      })}
    </svg>
  );
}
