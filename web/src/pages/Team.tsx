/** Team activity of a project: who ran what over time, runs and compute time per user per week. */
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { RunPage } from "../lib/types";
import { PERIODS, weeklyActivity, type Activity } from "../lib/team";
import { fmtDate, fmtDuration, fmtTime } from "../lib/format";
import { seriesColor } from "../lib/colors";
import { Badge, ErrorBox, Loading, Note } from "../components/ui";

export default function TeamPage() {
  const { project = "" } = useParams();
  const [sp, setSp] = useSearchParams();
  const since = sp.get("since") ?? "90d";
  // The weekly figures are counted by the server over every run of the period; the timeline below shows
  // the newest runs only.
  const activity = useApi<Activity>(`/projects/${encodeURIComponent(project)}/activity`, { by: "week", since });
  const latest = useApi<RunPage>("/runs", { project, limit: 30 });
  if (activity.error) return <ErrorBox error={activity.error} />;
  if (!activity.data) return <Loading what="activity" />;
  const { weeks, users, runs, seconds } = weeklyActivity(activity.data);
  const maxRuns = Math.max(1, ...weeks.map((w) => Object.values(w.byUser).reduce((s, c) => s + c.runs, 0)));
  const period = PERIODS.find(([v]) => v === since)?.[1] ?? since;
  return (
    <>
      <div className="crumbs">
        <Link to="/projects">Projects</Link> / <Link to={`/projects/${encodeURIComponent(project)}/runs`}>{project}</Link>
      </div>
      <div className="page-head">
        <h1>Team activity</h1>
        <span className="sub" data-testid="team-totals">
          {runs.toLocaleString()} runs by {users.length} users, {fmtDuration(seconds)} of run time ({since === "all" ? "all time" : `last ${period}`})
        </span>
        <select aria-label="period" value={since} onChange={(e) => setSp(new URLSearchParams({ since: e.target.value }), { replace: true })}>
          {PERIODS.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
        </select>
      </div>
      {runs === 0 ? <Note>No runs in this period.</Note> : null}
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Runs per week</h2>
        <div className="toolbar small">
          {users.map((u, i) => (
            <span key={u}><span style={{ color: seriesColor(i) }}>■</span> {u}</span>
          ))}
        </div>
        <table className="t">
          <thead>
            <tr><th>week of</th><th style={{ width: "35%" }}>runs</th>{users.map((u) => <th key={u} className="num">{u}</th>)}</tr>
          </thead>
          <tbody>
            {weeks.map((w) => (
              <tr key={w.week}>
                <td style={{ whiteSpace: "nowrap" }}>{fmtDate(w.week)}</td>
                <td>
                  <div style={{ display: "flex", height: 12 }}>
                    {users.map((u, i) =>
                      w.byUser[u] ? (
                        <div key={u} title={`${u}: ${w.byUser[u].runs} runs`} style={{ width: `${(w.byUser[u].runs / maxRuns) * 100}%`, background: seriesColor(i) }} />
                      ) : null,
                    )}
                  </div>
                </td>
                {users.map((u) => {
                  const c = w.byUser[u];
                  return (
                    <td key={u} className="num small">
                      {c ? (
                        <>
                          <b>{c.runs}</b> runs
                          <div className="muted" style={{ whiteSpace: "nowrap" }}>
                            {fmtDuration(c.seconds)}
                            {c.failed ? <span style={{ color: "var(--bad)" }}> · {c.failed} failed</span> : null}
                          </div>
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Latest runs</h2>
        <table className="t">
          <tbody>
            {(latest.data?.runs ?? []).map((r) => (
              <tr key={r.id}>
                <td>{fmtTime(r.start_time)}</td>
                <td>{r.user ?? "?"}</td>
                <td><Link to={`/runs/${r.id}`}>{r.name}</Link></td>
                <td><Badge kind={r.status}>{r.status}</Badge></td>
                <td className="num">{fmtDuration(r.duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
