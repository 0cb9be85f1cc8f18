/** Team insights: compute cost per week (bars), value metrics, retraining cadence (points of performance
 * against age), and the maturity scorecard whose scores link to the runs, models and monitors behind them. */
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import { fmtDate, fmtNum, shortId } from "../lib/format";
import { ErrorBox, Loading, Note, Tabs } from "../components/ui";

type Sum = { runs: number; hours: number; cpu_hours: number; gpu_hours: number; cost: number; unpriced_hours: number };
type Budget = {
  project: string;
  period: string;
  amount: number;
  currency: string;
  spent: number;
  share: number | null;
  state: string;
  channels?: string[]; // where the alert goes, secrets hidden
};
export type Cost = {
  currency: string | null;
  total: Sum;
  per_week: (Sum & { week_start: number })[];
  per_project: (Sum & { project: string })[];
  per_user: (Sum & { user: string | null })[];
  top_runs: { run_id: string; name: string; project: string; user: string | null; hours: number; cost: number }[];
  budgets: Budget[];
};
type Value = {
  runs: number;
  reproducible_share: number | null;
  median_days_to_production: number | null;
  mean_experiments_per_week: number | null;
  projects: { project: string; first_run: number | null; days_to_first_production: number | null; reproducible_share: number | null }[];
  versions: { model: string; version: number; days_to_production: number | null; via_request: boolean }[];
};
type Point = { version: number; age_days: number; value: number; kind: string; training: number | null; fell: boolean | null };
export type Cadence = {
  model: string;
  metric: string | null;
  current_version: number | null;
  age_days: number | null;
  intervals_days: number[];
  points: Point[];
  suggested_retraining: { days: number | null; enough_data: boolean; reason: string };
};
type Dimension = { dimension: string; score: number | null; figure: string; evidence: Record<string, unknown>[] };
type Scorecard = { overall: number | null; level: string | null; dimensions: Dimension[] };

const pct = (v: number | null | undefined) => (v == null ? "—" : `${Math.round(v * 100)}%`);
const money = (v: number, cur: string | null) => `${v.toFixed(2)}${cur ? ` ${cur}` : ""}`;

function Bar({ value, max, color = "var(--accent, #4a7bd0)" }: { value: number; max: number; color?: string }) {
  return <div style={{ height: 12, width: `${max > 0 ? (value / max) * 100 : 0}%`, background: color, minWidth: value > 0 ? 2 : 0 }} />;
}

export function CostView({ cost }: { cost: Cost }) {
  const max = Math.max(0, ...cost.per_week.map((w) => w.cost));
  const cur = cost.currency;
  return (
    <>
      <div className="panel" data-testid="cost-total">
        {cost.total.runs.toLocaleString()} runs · {fmtNum(cost.total.cpu_hours, 3)} core-hours · {fmtNum(cost.total.gpu_hours, 3)} GPU-hours ·{" "}
        <b>{money(cost.total.cost, cur)}</b>
        {cost.total.unpriced_hours ? <Note>{fmtNum(cost.total.unpriced_hours, 3)} hours of hardware have no price (Admin sets the price table).</Note> : null}
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Cost per week</h2>
        <table className="t">
          <tbody>
            {cost.per_week.map((w) => (
              <tr key={w.week_start} data-testid="cost-week">
                <td style={{ whiteSpace: "nowrap" }}>{fmtDate(w.week_start)}</td>
                <td style={{ width: "60%" }}><Bar value={w.cost} max={max} /></td>
                <td className="num">{money(w.cost, cur)}</td>
                <td className="num muted">{w.runs} runs</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Per project and user</h2>
        <table className="t">
          <thead><tr><th>project</th><th className="num">runs</th><th className="num">cost</th></tr></thead>
          <tbody>
            {cost.per_project.map((p) => (
              <tr key={p.project}><td><Link to={`/projects/${encodeURIComponent(p.project)}/runs`}>{p.project}</Link></td><td className="num">{p.runs}</td><td className="num">{money(p.cost, cur)}</td></tr>
            ))}
          </tbody>
        </table>
        <table className="t">
          <thead><tr><th>user</th><th className="num">runs</th><th className="num">cost</th></tr></thead>
          <tbody>
            {cost.per_user.map((u) => (
              <tr key={u.user ?? ""}><td>{u.user ?? "—"}</td><td className="num">{u.runs}</td><td className="num">{money(u.cost, cur)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Costliest runs</h2>
        <table className="t">
          <tbody>
            {cost.top_runs.map((r) => (
              <tr key={r.run_id}>
                <td><Link to={`/runs/${r.run_id}`}>{r.name || shortId(r.run_id)}</Link></td>
                <td>{r.project}</td><td>{r.user ?? "—"}</td>
                <td className="num">{fmtNum(r.hours, 3)} h</td><td className="num">{money(r.cost, cur)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cost.budgets.length ? (
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Budgets this month</h2>
          <table className="t">
            <tbody>
              {cost.budgets.map((b) => (
                <tr key={b.project} data-testid="budget">
                  <td>{b.project}</td>
                  <td style={{ width: "40%" }}><Bar value={Math.min(b.share ?? 1, 1)} max={1} color={b.state === "ok" ? "var(--good, #3a3)" : "var(--bad, #c33)"} /></td>
                  <td className="num">{money(b.spent, b.currency)} of {money(b.amount, b.currency)}</td>
                  <td>{b.state}</td>
                  <td className="muted" data-testid="budget-channels">{b.channels?.length ? `→ ${b.channels.join(", ")}` : "audit log only"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

function ValueView({ value }: { value: Value }) {
  return (
    <>
      <div className="panel">
        {value.runs.toLocaleString()} runs · {fmtNum(value.mean_experiments_per_week, 3)} a week · reproducible {pct(value.reproducible_share)} · median
        registration → production {value.median_days_to_production == null ? "—" : `${fmtNum(value.median_days_to_production, 3)} days`}
      </div>
      <div className="panel">
        <table className="t">
          <thead><tr><th>project</th><th>first run</th><th className="num">days to first production</th><th className="num">reproducible</th></tr></thead>
          <tbody>
            {value.projects.map((p) => (
              <tr key={p.project}><td>{p.project}</td><td>{fmtDate(p.first_run)}</td><td className="num">{p.days_to_first_production ?? "—"}</td><td className="num">{pct(p.reproducible_share)}</td></tr>
            ))}
          </tbody>
        </table>
        <table className="t">
          <thead><tr><th>version</th><th className="num">days registration → production</th><th>approved</th></tr></thead>
          <tbody>
            {value.versions.map((v) => (
              <tr key={`${v.model}:${v.version}`}>
                <td><Link to={`/registry/${encodeURIComponent(v.model)}/versions/${v.version}`}>{v.model}:{v.version}</Link></td>
                <td className="num">{v.days_to_production ?? "—"}</td><td>{v.via_request ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Performance against age as an inline SVG scatter: realized points filled, estimated hollow, red when
 * below the training figure by the margin. */
export function CadencePoints({ model }: { model: Cadence }) {
  const w = 420, h = 160, pad = 28;
  const pts = model.points;
  if (!pts.length) return null;
  const maxAge = Math.max(1, ...pts.map((p) => p.age_days));
  const values = pts.map((p) => p.value).concat(pts.flatMap((p) => (p.training == null ? [] : [p.training])));
  const lo = Math.min(...values), hi = Math.max(...values);
  const y = (v: number) => h - pad - ((v - lo) / (hi - lo || 1)) * (h - 2 * pad);
  const x = (a: number) => pad + (a / maxAge) * (w - 2 * pad);
  return (
    <svg width={w} height={h} role="img" aria-label={`${model.model} ${model.metric} against age`}>
      <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} stroke="#999" />
      <text x={w - pad} y={h - 6} fontSize="10" textAnchor="end">age (days)</text>
      {pts.map((p, i) => (
        <circle key={i} data-testid="cadence-point" cx={x(p.age_days)} cy={y(p.value)} r={3.5}
          fill={p.kind === "realized" ? (p.fell ? "#c33" : "#4a7bd0") : "none"} stroke={p.fell ? "#c33" : "#4a7bd0"}>
          <title>{`v${p.version}, ${p.age_days} days: ${p.value} (${p.kind})`}</title>
        </circle>
      ))}
    </svg>
  );
}

function CadenceView({ models }: { models: Cadence[] }) {
  if (!models.length) return <Note>No model has reached production yet.</Note>;
  return (
    <>
      {models.map((m) => (
        <div className="panel" key={m.model} data-testid="cadence-model">
          <h2 style={{ marginTop: 0 }}><Link to={`/registry/${encodeURIComponent(m.model)}`}>{m.model}</Link></h2>
          <div>v{m.current_version} in production for {fmtNum(m.age_days, 3)} days · intervals between production versions: {m.intervals_days.join(", ") || "—"} days</div>
          <div data-testid="cadence-suggestion">
            {m.suggested_retraining.days != null ? <b>Retrain every {m.suggested_retraining.days} days: </b> : null}
            {m.suggested_retraining.reason}
          </div>
          <CadencePoints model={m} />
        </div>
      ))}
    </>
  );
}

function evidenceLink(e: Record<string, unknown>) {
  if (typeof e.model === "string" && Array.isArray(e.monitors) && e.monitors.length)
    return (
      <>
        <Link to={`/registry/${encodeURIComponent(e.model)}`}>{e.model}</Link> (
        {(e.monitors as string[]).map((m, i) => (
          <span key={m}>{i ? ", " : ""}<Link to={`/monitoring/${encodeURIComponent(m)}`}>{m}</Link></span>
        ))}
        )
      </>
    );
  if (typeof e.model === "string" && typeof e.version === "number")
    return <Link to={`/registry/${encodeURIComponent(e.model)}/versions/${e.version}`}>{e.model}:{e.version}</Link>;
  if (typeof e.model === "string") return <Link to={`/registry/${encodeURIComponent(e.model)}`}>{e.model}</Link>;
  if (typeof e.project === "string") return <Link to={`/projects/${encodeURIComponent(e.project)}/runs`}>{e.project}</Link>;
  return null;
}

function ScorecardView({ card }: { card: Scorecard }) {
  return (
    <div className="panel">
      <h2 style={{ marginTop: 0 }}>ML maturity: {card.overall == null ? "—" : `${card.overall}/100 (${card.level})`}</h2>
      <table className="t">
        <tbody>
          {card.dimensions.map((d) => (
            <tr key={d.dimension}>
              <td>{d.dimension}</td>
              <td style={{ width: "30%" }}><Bar value={d.score ?? 0} max={100} /></td>
              <td className="num">{d.score ?? "—"}</td>
              <td className="small">{d.figure}<div>{d.evidence.slice(0, 8).map((e, i) => <span key={i}>{evidenceLink(e)} </span>)}</div></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function InsightsPage() {
  const [sp] = useSearchParams();
  const tab = sp.get("tab") ?? "cost";
  const since = sp.get("since") ?? undefined;
  const query = since ? { since } : undefined;
  const cost = useApi<Cost>(tab === "cost" ? "/insights/cost" : null, query);
  const value = useApi<Value>(tab === "value" ? "/insights/value" : null, query);
  const cadence = useApi<Cadence[]>(tab === "cadence" ? "/insights/cadence" : null);
  const card = useApi<Scorecard>(tab === "scorecard" ? "/insights/scorecard" : null, query);
  const current = { cost, value, cadence, scorecard: card }[tab] ?? cost;
  return (
    <>
      <div className="page-head"><h1>Insights</h1></div>
      <Tabs tabs={[["cost", "Cost"], ["value", "Value"], ["cadence", "Retraining cadence"], ["scorecard", "Scorecard"]]} />
      {current.error ? <ErrorBox error={current.error} /> : null}
      {!current.data && !current.error ? <Loading what={tab} /> : null}
      {tab === "cost" && cost.data ? <CostView cost={cost.data} /> : null}
      {tab === "value" && value.data ? <ValueView value={value.data} /> : null}
      {tab === "cadence" && cadence.data ? <CadenceView models={cadence.data} /> : null}
      {tab === "scorecard" && card.data ? <ScorecardView card={card.data} /> : null}
    </>
  );
}
