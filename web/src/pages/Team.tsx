/** Team activity of a project: who ran what over time, runs and compute time per user per week. */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, apiGet } from "../lib/api";
import type { Run, RunPage } from "../lib/types";
import { weeklyActivity } from "../lib/team";
import { fmtDate, fmtDuration, fmtTime } from "../lib/format";
import { seriesColor } from "../lib/colors";
import { Badge, ErrorBox, Loading, Note } from "../components/ui";

const CAP = 5000;

export default function TeamPage() {
  const { project = "" } = useParams();
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const all: Run[] = [];
      for (let offset = 0; offset < CAP; offset += 500) {
        const page = await apiGet<RunPage>("/runs", { project, sort: "-start_time", offset, limit: 500 });
        all.push(...page.runs);
        if (!live) return;
        setTotal(page.total);
        if (page.runs.length < 500) break;
      }
      if (live) setRuns(all);
    })().catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [project]);
  if (error) return <ErrorBox error={error} />;
  if (!runs) return <Loading what="runs" />;
  const { weeks, users } = weeklyActivity(runs);
  const maxRuns = Math.max(1, ...weeks.map((w) => Object.values(w.byUser).reduce((s, c) => s + c.runs, 0)));
  return (
    <>
      <div className="crumbs">
        <Link to="/projects">Projects</Link> / <Link to={`/projects/${encodeURIComponent(project)}/runs`}>{project}</Link>
      </div>
      <div className="page-head">
        <h1>Team activity</h1>
        <span className="sub">
          {runs.length.toLocaleString()} runs{total > runs.length ? ` (the newest ${runs.length.toLocaleString()} of ${total.toLocaleString()})` : ""} by {users.length} users
        </span>
      </div>
      {runs.length === 0 ? <Note>No runs yet.</Note> : null}
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
            {runs.slice(0, 30).map((r) => (
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
