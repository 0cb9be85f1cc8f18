/** A histogram from its counts and edges, as SVG bars (bar widths follow the edges). */
import { fmtNum } from "../../lib/format";

export function HistogramBars({ counts, edges, width = 360, height = 160 }: { counts: number[]; edges: number[]; width?: number; height?: number }) {
  if (counts.length === 0 || edges.length !== counts.length + 1) return <div className="sub">No bins.</div>;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const top = Math.max(...counts, 1);
  const pad = 18;
  const x = (v: number) => ((v - lo) / (hi - lo || 1)) * width;
  const y = (c: number) => (height - pad) * (1 - c / top);
  return (
    <svg className="media-hist" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label="histogram">
      {counts.map((c, i) => (
        <rect key={i} x={x(edges[i])} y={y(c)} width={Math.max(0.5, x(edges[i + 1]) - x(edges[i]) - 0.5)} height={height - pad - y(c)} fill="#4c78a8">
          <title>{`${fmtNum(edges[i])} – ${fmtNum(edges[i + 1])}: ${fmtNum(c)}`}</title>
        </rect>
      ))}
      <text x={0} y={height - 4} fontSize={10}>{fmtNum(lo)}</text>
      <text x={width} y={height - 4} fontSize={10} textAnchor="end">{fmtNum(hi)}</text>
    </svg>
  );
}
