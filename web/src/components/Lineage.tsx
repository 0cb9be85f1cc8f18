/** Lineage drawn as boxes and arrows: datasets → run → version → stage and aliases. */
import { useNavigate } from "react-router-dom";

export interface LineageNode {
  label: string;
  sub?: string;
  href?: string;
}

const W = 200, H = 46, GAP = 70, VGAP = 14;

export function Lineage({ columns }: { columns: { title: string; nodes: LineageNode[] }[] }) {
  const nav = useNavigate();
  const rows = Math.max(1, ...columns.map((c) => c.nodes.length));
  const height = 24 + rows * (H + VGAP);
  const width = columns.length * W + (columns.length - 1) * GAP + 20;
  const y = (ci: number, ni: number) => {
    const n = columns[ci].nodes.length;
    const top = 24 + ((rows - n) * (H + VGAP)) / 2;
    return top + ni * (H + VGAP);
  };
  const x = (ci: number) => 10 + ci * (W + GAP);
  return (
    <svg className="lineage" width={width} height={height} data-testid="lineage">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#8a97b0" />
        </marker>
      </defs>
      {columns.map((c, ci) => (
        <text key={c.title} x={x(ci)} y={12} className="lbl">{c.title}</text>
      ))}
      {columns.slice(1).map((c, ci) =>
        columns[ci].nodes.flatMap((_, a) =>
          c.nodes.map((__, b) => (
            <line
              key={`${ci}-${a}-${b}`}
              x1={x(ci) + W}
              y1={y(ci, a) + H / 2}
              x2={x(ci + 1) - 2}
              y2={y(ci + 1, b) + H / 2}
              stroke="#8a97b0"
              strokeWidth={1.2}
              markerEnd="url(#arrow)"
            />
          )),
        ),
      )}
      {columns.map((c, ci) =>
        c.nodes.map((n, ni) => (
          <g
            key={`${ci}-${ni}`}
            style={{ cursor: n.href ? "pointer" : "default" }}
            onClick={() => n.href && nav(n.href)}
          >
            <rect x={x(ci)} y={y(ci, ni)} width={W} height={H} rx={6} />
            <text x={x(ci) + 10} y={y(ci, ni) + 19} fill={n.href ? "#2f5fd0" : undefined}>
              {n.label.length > 28 ? n.label.slice(0, 27) + "…" : n.label}
            </text>
            {n.sub ? (
              <text x={x(ci) + 10} y={y(ci, ni) + 36} style={{ fontSize: 11, fill: "#667085" }}>
                {n.sub.length > 32 ? n.sub.slice(0, 31) + "…" : n.sub}
              </text>
            ) : null}
          </g>
        )),
      )}
    </svg>
  );
}
