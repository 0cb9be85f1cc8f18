/** Reference and current distributions of one column, as paired bars per bin (or category). */
import { fmtNum } from "../lib/format";

export function Distribution({
  dist,
}: {
  dist: { kind: string; edges?: number[]; categories?: string[]; reference: number[]; current: number[] };
}) {
  const n = Math.max(dist.reference.length, dist.current.length);
  if (n === 0) return <div className="muted">No distribution.</div>;
  const labels =
    dist.categories ??
    (dist.edges && dist.edges.length === n + 1
      ? Array.from({ length: n }, (_, i) => `${fmtNum(dist.edges![i], 3)}–${fmtNum(dist.edges![i + 1], 3)}`)
      : Array.from({ length: n }, (_, i) => String(i)));
  const max = Math.max(...dist.reference, ...dist.current, 1e-9);
  const w = 640, h = 180, m = { l: 8, r: 8, t: 8, b: 34 };
  const band = (w - m.l - m.r) / n;
  const bar = Math.max(2, band / 2 - 2);
  const y = (v: number) => h - m.b - (v / max) * (h - m.t - m.b);
  return (
    <svg width={w} height={h} role="img" aria-label="reference and current distribution" style={{ background: "#fff" }}>
      {Array.from({ length: n }, (_, i) => {
        const x = m.l + i * band;
        const r = dist.reference[i] ?? 0;
        const c = dist.current[i] ?? 0;
        return (
          <g key={i}>
            <rect x={x + 1} y={y(r)} width={bar} height={h - m.b - y(r)} fill="#9fb3d9">
              <title>{`${labels[i]}: reference ${(r * 100).toFixed(1)}%`}</title>
            </rect>
            <rect x={x + 1 + bar} y={y(c)} width={bar} height={h - m.b - y(c)} fill="#d0542f">
              <title>{`${labels[i]}: current ${(c * 100).toFixed(1)}%`}</title>
            </rect>
            {n <= 12 ? (
              <text x={x + band / 2} y={h - m.b + 14} fontSize="9" textAnchor="middle" fill="#667085">
                {labels[i].length > 16 ? labels[i].slice(0, 15) + "…" : labels[i]}
              </text>
            ) : null}
          </g>
        );
      })}
      <line x1={m.l} x2={w - m.r} y1={h - m.b} y2={h - m.b} stroke="#c9ced6" />
      <rect x={m.l} y={h - 12} width={10} height={8} fill="#9fb3d9" />
      <text x={m.l + 14} y={h - 4} fontSize="10" fill="#1d2330">reference</text>
      <rect x={m.l + 80} y={h - 12} width={10} height={8} fill="#d0542f" />
      <text x={m.l + 94} y={h - 4} fontSize="10" fill="#1d2330">current (period)</text>
    </svg>
  );
}
