/**
 * A plotly figure's JSON drawn without plotly.js (several MB): scatter traces (lines, markers) and bars, on
 * numeric or category x, with the trace names as a legend. Other trace types are named, not drawn; the JSON
 * itself can be downloaded. Values become numbers and text nodes, never markup.
 */
import { seriesColor } from "../../lib/colors";
import { fmtNum } from "../../lib/format";

interface Trace {
  type?: string;
  name?: string;
  mode?: string;
  x?: unknown[];
  y?: unknown[];
}

export interface PlotlyJson {
  data?: Trace[];
  layout?: { title?: string | { text?: string } };
}

const W = 420;
const H = 220;
const P = 28;

export function drawable(t: Trace): boolean {
  return (t.type ?? "scatter") === "scatter" || t.type === "scattergl" || t.type === "bar";
}

export function PlotlyLite({ fig }: { fig: PlotlyJson }) {
  const traces = (fig.data ?? []).filter((t) => Array.isArray(t.y));
  const shown = traces.filter(drawable);
  const skipped = (fig.data ?? []).filter((t) => !drawable(t)).map((t) => t.type);
  const xs = shown.flatMap((t) => (t.x ?? t.y!.map((_, i) => i)) as unknown[]);
  const numericX = xs.every((v) => typeof v === "number");
  const cats = numericX ? [] : [...new Set(xs.map(String))];
  const xNum = (v: unknown, i: number) => (numericX ? Number(v ?? i) : cats.indexOf(String(v)));
  const xv = shown.flatMap((t) => (t.x ?? t.y!.map((_, i) => i)).map(xNum));
  const yv = shown.flatMap((t) => t.y!.map(Number)).filter(Number.isFinite);
  const hasBar = shown.some((t) => t.type === "bar");
  const [x0, x1] = [Math.min(...xv) - (hasBar ? 0.5 : 0), Math.max(...xv) + (hasBar ? 0.5 : 0)];
  // Bars start at 0; lines use their own range (an accuracy curve near 0.95 is not drawn flat).
  const [y0, y1] = [hasBar ? Math.min(0, ...yv) : Math.min(...yv), hasBar ? Math.max(0, ...yv) : Math.max(...yv)];
  const sx = (v: number) => P + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const sy = (v: number) => H - P - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * P);
  const title = typeof fig.layout?.title === "string" ? fig.layout.title : fig.layout?.title?.text;
  return (
    <div className="media-plotly">
      {title ? <div className="sub">{title}</div> : null}
      {shown.length > 0 ? (
        <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="plotly figure">
          <line x1={P} y1={H - P} x2={W - P} y2={H - P} stroke="#999" />
          <line x1={P} y1={P} x2={P} y2={H - P} stroke="#999" />
          <text x={2} y={P} fontSize={9}>{fmtNum(y1)}</text>
          <text x={2} y={H - P} fontSize={9}>{fmtNum(y0)}</text>
          {shown.map((t, k) => {
            const color = seriesColor(k);
            const x = (t.x ?? t.y!.map((_, i) => i)).map(xNum);
            const y = t.y!.map(Number);
            if (t.type === "bar") {
              const bw = ((W - 2 * P) / Math.max(1, x1 - x0)) * 0.8 / Math.max(1, shown.filter((s) => s.type === "bar").length);
              return y.map((v, i) => (
                <rect key={`${k}-${i}`} x={sx(x[i]) - bw / 2} y={Math.min(sy(v), sy(0))} width={bw} height={Math.abs(sy(0) - sy(v))} fill={color} data-trace={k} />
              ));
            }
            const points = x.map((v, i) => `${sx(v)},${sy(y[i])}`).join(" ");
            const lines = (t.mode ?? "lines").includes("lines");
            const markers = (t.mode ?? "").includes("markers");
            return (
              <g key={k} data-trace={k}>
                {lines ? <polyline points={points} fill="none" stroke={color} strokeWidth={1.5} /> : null}
                {markers ? x.map((v, i) => <circle key={i} cx={sx(v)} cy={sy(y[i])} r={2.5} fill={color} />) : null}
              </g>
            );
          })}
        </svg>
      ) : null}
      <div className="sub">
        {shown.map((t, k) => (
          <span key={k} style={{ color: seriesColor(k), marginRight: 8 }}>■ {t.name ?? `trace ${k}`}</span>
        ))}
        {skipped.length > 0 ? <span>Not drawn here: {skipped.join(", ")} (download the JSON).</span> : null}
      </div>
    </div>
  );
}
