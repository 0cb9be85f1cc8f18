/** Registered models of the projects you may view. */
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { Model } from "../lib/types";
import { fmtAgo, fmtTime } from "../lib/format";
import { Badge, Fetched } from "../components/ui";

export default function RegistryPage() {
  const [sp, setSp] = useSearchParams();
  const project = sp.get("project") ?? "";
  const state = useApi<{ models: Model[]; total: number }>("/models", { project: project || undefined, limit: 100 });
  return (
    <>
      <div className="page-head">
        <h1>Model registry</h1>
        {state.data ? <span className="sub">{state.data.total} models</span> : null}
        <span className="spacer" />
        <Link to="/approvals">approvals inbox</Link>
      </div>
      <div className="toolbar">
        <input
          placeholder="project"
          value={project}
          onChange={(e) => setSp(e.target.value ? { project: e.target.value } : {}, { replace: true })}
        />
      </div>
      <Fetched state={state} what="models">
        {(d) =>
          d.models.length === 0 ? (
            <div className="note">No models registered yet (<code>run.register_model(…)</code> or <code>mltrail models register</code>).</div>
          ) : (
            <>
            {d.total > d.models.length ? <div className="note">Showing the first {d.models.length} of {d.total} models.</div> : null}
            <table className="t" data-testid="models-table">
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Project</th>
                  <th>Latest</th>
                  <th>Aliases</th>
                  <th>Owner</th>
                  <th>Description</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {d.models.map((m) => (
                  <tr key={m.name}>
                    <td>
                      <Link to={`/registry/${encodeURIComponent(m.name)}`}>{m.name}</Link>
                    </td>
                    <td>{m.project}</td>
                    <td>{m.latest_version ? <Link to={`/registry/${encodeURIComponent(m.name)}/versions/${m.latest_version}`}>v{m.latest_version}</Link> : "—"}</td>
                    <td>
                      {Object.entries(m.aliases).map(([a, v]) => (
                        <Badge key={a}>{a} → v{v}</Badge>
                      ))}
                    </td>
                    <td>{m.owner ?? "—"}</td>
                    <td className="muted">{m.description ?? ""}</td>
                    <td title={fmtTime(m.updated_at)}>{fmtAgo(m.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            </>
          )
        }
      </Fetched>
    </>
  );
}
