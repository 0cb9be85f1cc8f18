/** A report's blocks as read from the API: markdown (rendered safely by the server) and live panels. */
import { Link } from "react-router-dom";
import type { EvaluatedBlock, PanelBlock } from "../lib/reports";
import { fmtNum, fmtTime } from "../lib/format";
import { Badge } from "./ui";

type Data = Record<string, unknown>;
const COLORS = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2"];

function cell(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return fmtNum(v);
  return String(v);
}

function list<T = Data>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function RunsPanel({ data }: { data: Data }) {
  const columns = list<string>(data.columns);
  const rows = list<unknown[]>(data.rows);
  if (!rows.length) return <p className="muted">No run matches.</p>;
  return (
    <>
      <table className="t" data-testid="panel-runs">
        <thead>
          <tr>{columns.slice(1).map((c) => <th key={c}>{c}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={String(r[0])}>
              <td>
                <Link to={`/runs/${String(r[0])}`}>{cell(r[1])}</Link>
              </td>
              {r.slice(2).map((v, i) => (
                <td key={i}>{cell(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        {rows.length} of {cell(data.total)} runs
      </p>
    </>
  );
}

function MetricsPanel({ data }: { data: Data }) {
  const series = list<{ run: string; key: string; steps: number[]; values: (number | string)[] }>(data.series);
  if (!series.length) return <p className="muted">None of these runs logged these metrics.</p>;
  return (
    <>
      {list<string>(data.keys).map((key) => {
        const mine = series.filter((s) => s.key === key);
        const pts = mine.flatMap((s) => s.values.filter((v): v is number => typeof v === "number"));
        const steps = mine.flatMap((s) => s.steps);
        if (!pts.length) return null;
        const [lo, hi] = [Math.min(...pts), Math.max(...pts)];
        const [s0, s1] = [Math.min(...steps), Math.max(...steps)];
        const x = (s: number) => 40 + (560 * (s - s0)) / (s1 - s0 || 1);
        const y = (v: number) => 10 + 150 * (1 - (v - lo) / (hi - lo || 1));
        return (
          <figure key={key} data-testid="panel-metric">
            <figcaption className="small">
              {key}: {fmtNum(lo)} – {fmtNum(hi)}
            </figcaption>
            <svg viewBox="0 0 610 170" width="100%" role="img" aria-label={`${key} by step`}>
              {mine.map((s, i) => (
                <polyline
                  key={s.run}
                  fill="none"
                  stroke={COLORS[i % COLORS.length]}
                  strokeWidth={1.5}
                  points={s.steps
                    .map((st, j) => (typeof s.values[j] === "number" ? `${x(st)},${y(s.values[j] as number)}` : ""))
                    .filter(Boolean)
                    .join(" ")}
                >
                  <title>{s.run}</title>
                </polyline>
              ))}
            </svg>
            <div className="small">
              {mine.map((s, i) => (
                <span key={s.run} style={{ color: COLORS[i % COLORS.length], marginRight: 12 }}>
                  ━ {s.run}
                </span>
              ))}
            </div>
          </figure>
        );
      })}
    </>
  );
}

function ComparePanel({ data }: { data: Data }) {
  const a = (data.a ?? {}) as Data;
  const b = (data.b ?? {}) as Data;
  return (
    <table className="t" data-testid="panel-compare">
      <thead>
        <tr>
          <th />
          <th>a: {cell(a.name)}</th>
          <th>b: {cell(b.name)}</th>
        </tr>
      </thead>
      <tbody>
        {list(data.rows).map((r) => (
          <tr key={String(r.key)} className={r.differs ? "differs" : ""}>
            <td>{String(r.key)}</td>
            <td>{cell(r.a)}</td>
            <td>
              {cell(r.b)} {r.differs ? <Badge kind="warn">differs</Badge> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SamplesPanel({ data }: { data: Data }) {
  const worse = (data.right_to_wrong ?? {}) as Data;
  const better = (data.wrong_to_right ?? {}) as Data;
  return (
    <>
      <p data-testid="panel-samples">
        error {cell(data.error_a)} → {cell(data.error_b)} over {cell(data.matched)} matched rows; {cell(worse.count ?? data.worse)} got
        worse, {cell(better.count ?? data.better)} got better
      </p>
      <table className="t">
        <thead>
          <tr>
            <th>slice</th>
            <th className="num">rows</th>
            <th className="num">error a</th>
            <th className="num">error b</th>
            <th className="num">p</th>
          </tr>
        </thead>
        <tbody>
          {list(data.slices).map((s) => (
            <tr key={String(s.slice)}>
              <td>{String(s.slice)}</td>
              <td className="num">{cell(s.rows)}</td>
              <td className="num">{cell(s.error_a)}</td>
              <td className="num">{cell(s.error_b)}</td>
              <td className="num">{cell(s.p)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function ModelPanel({ data }: { data: Data }) {
  const run = data.run as Data | null;
  const approvals = list(data.approvals);
  return (
    <div data-testid="panel-model">
      <p>
        <Link to={`/registry/${String(data.model)}/versions/${String(data.version)}`}>
          {String(data.model)} v{String(data.version)}
        </Link>{" "}
        <Badge kind={String(data.stage)}>{String(data.stage)}</Badge> registered by {cell(data.registered_by)}{" "}
        {fmtTime(data.registered_at as number)}
      </p>
      {data.description ? <p>{String(data.description)}</p> : null}
      {run ? (
        <p className="small">
          from run <Link to={`/runs/${String(run.id)}`}>{String(run.name)}</Link> · commit <code>{String(run.commit ?? "–").slice(0, 12)}</code>
        </p>
      ) : null}
      <p className="small">
        {approvals.length
          ? approvals.map((r) => `${String(r.target)}: ${String(r.status)}`).join(" · ")
          : "no approval requests"}
      </p>
    </div>
  );
}

function MonitorPanel({ data }: { data: Data }) {
  const drift = list(data.drift);
  const drifted = drift.filter((w) => w.dataset_drifted || list(w.drifted).length > 0);
  const mon = (data.monitor ?? {}) as Data;
  return (
    <p data-testid="panel-monitor">
      <Link to={`/monitoring/${String(mon.name)}`}>{String(mon.name)}</Link>: {cell(data.current_rows)} rows, {drifted.length} of{" "}
      {drift.length} windows with drift, {list(data.alerts).length} alerts
    </p>
  );
}

const PANELS: Record<string, (p: { data: Data }) => JSX.Element> = {
  runs: RunsPanel,
  metrics: MetricsPanel,
  compare: ComparePanel,
  samples: SamplesPanel,
  model: ModelPanel,
  monitor: MonitorPanel,
};

export function Panel({ block }: { block: PanelBlock }) {
  const Body = PANELS[block.type];
  return (
    <section className={`panel report-panel ${block.status}`} data-testid={`panel-${block.status}`}>
      <h3>
        {block.title} <span className="muted small">{block.type}</span>
      </h3>
      {block.status === "hidden" ? (
        <p className="muted">
          <i>{block.message}</i>
        </p>
      ) : block.status === "error" ? (
        <p className="error-box">{block.message}</p>
      ) : Body ? (
        <Body data={block.data ?? {}} />
      ) : (
        <p className="muted">Unknown panel type.</p>
      )}
    </section>
  );
}

export function ReportBlocks({ blocks }: { blocks: EvaluatedBlock[] }) {
  return (
    <>
      {blocks.map((b, i) =>
        b.type === "markdown" ? (
          // The server renders markdown with raw HTML escaped and no images (render_markdown).
          (b as { html?: string }).html !== undefined ? (
            <div key={i} className="panel prose" dangerouslySetInnerHTML={{ __html: (b as { html: string }).html }} />
          ) : (
            <pre key={i} className="panel prose">{(b as { text: string }).text}</pre>
          )
        ) : (
          <Panel key={i} block={b as PanelBlock} />
        ),
      )}
    </>
  );
}
