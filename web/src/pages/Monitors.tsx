/** Monitors of the projects you may view, with their open alerts. */
import { Link } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { Alert, Monitor } from "../lib/types";
import { Badge, Fetched } from "../components/ui";

export default function MonitorsPage() {
  const state = useApi<{ monitors: Monitor[] }>("/monitors");
  const alerts = useApi<{ alerts: Alert[] }>("/alerts", { state: "open", limit: 500 });
  const openBy = (name: string) => alerts.data?.alerts.filter((a) => a.monitor === name).length ?? 0;
  return (
    <>
      <div className="page-head">
        <h1>Monitoring</h1>
      </div>
      <Fetched state={state} what="monitors">
        {(d) =>
          d.monitors.length === 0 ? (
            <div className="note">No monitors yet (<code>mltrail monitor create</code>).</div>
          ) : (
            <table className="t" data-testid="monitors-table">
              <thead>
                <tr>
                  <th>Monitor</th>
                  <th>Model version</th>
                  <th>Project</th>
                  <th>Task</th>
                  <th className="num">Features</th>
                  <th>Windows</th>
                  <th>Segments</th>
                  <th>Open alerts</th>
                </tr>
              </thead>
              <tbody>
                {d.monitors.map((m) => (
                  <tr key={m.name}>
                    <td><Link to={`/monitoring/${encodeURIComponent(m.name)}`}>{m.name}</Link></td>
                    <td>
                      <Link to={`/registry/${encodeURIComponent(m.model)}/versions/${m.version}`}>{m.model}:{m.version}</Link>
                      {m.alias ? <span className="muted"> (@{m.alias})</span> : null}
                    </td>
                    <td>{m.project}</td>
                    <td>{m.task}</td>
                    <td className="num">{m.features.length}</td>
                    <td>{m.granularity}</td>
                    <td>{m.segments.join(", ") || "—"}</td>
                    <td>{openBy(m.name) ? <Badge kind="open">{openBy(m.name)} open</Badge> : <Badge kind="ok">none</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Fetched>
    </>
  );
}
