/** Deployments of the projects you may view: the models each serves, its spec version and its last change. */
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { Project } from "../lib/types";
import { shadowRef, type Deployment } from "../lib/deployments";
import { fmtAgo, fmtTime } from "../lib/format";
import { Badge, Fetched } from "../components/ui";
import { RefLink } from "../components/DeploymentSpec";

export default function DeploymentsPage() {
  const [sp, setSp] = useSearchParams();
  const project = sp.get("project") ?? "";
  const state = useApi<{ deployments: Deployment[]; total: number }>("/deployments", { project, limit: 1000 });
  const projects = useApi<Project[]>("/projects");
  return (
    <>
      <div className="page-head">
        <h1>Deployments</h1>
        {state.data ? <span className="sub">{state.data.total} deployment{state.data.total === 1 ? "" : "s"}</span> : null}
        <label className="muted small">
          project{" "}
          <select
            aria-label="project"
            value={project}
            onChange={(e) => {
              const next = new URLSearchParams(sp);
              if (e.target.value) next.set("project", e.target.value);
              else next.delete("project");
              setSp(next, { replace: true });
            }}
          >
            <option value="">all</option>
            {(projects.data ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Fetched state={state} what="deployments">
        {(d) =>
          d.deployments.length === 0 ? (
            <div className="note">
              No deployments{project ? ` in ${project}` : ""} yet (<code>mltrail deploy create NAME --spec spec.json</code>, docs/DEPLOYMENTS.md).
            </div>
          ) : (
            <table className="t" data-testid="deployments-table">
              <thead>
                <tr>
                  <th>Deployment</th>
                  <th>Project</th>
                  <th>Primary</th>
                  <th>Canary</th>
                  <th>Shadow</th>
                  <th className="num">Spec</th>
                  <th>Changed</th>
                </tr>
              </thead>
              <tbody>
                {d.deployments.map((dep) => {
                  const cur = dep.current;
                  const resolved = cur.details.resolved;
                  return (
                    <tr key={dep.name} data-testid="deployment-row">
                      <td>
                        <Link to={`/deployments/${encodeURIComponent(dep.name)}`}>{dep.name}</Link>
                      </td>
                      <td>{dep.project}</td>
                      <td>
                        <RefLink refName={cur.spec.primary} resolved={resolved} />
                      </td>
                      <td>
                        {cur.spec.canary ? (
                          <>
                            <RefLink refName={cur.spec.canary.ref} resolved={resolved} /> <Badge>{cur.spec.canary.percent}%</Badge>
                          </>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td>
                        {cur.spec.shadow?.length ? (
                          cur.spec.shadow.map((s, i) => (
                            <div key={i}>
                              <RefLink refName={shadowRef(s).ref} resolved={resolved} />
                            </div>
                          ))
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td className="num">v{dep.version}</td>
                      <td title={fmtTime(cur.time)}>
                        {cur.action.replace("_", " ")} by <b>{cur.user ?? "?"}</b> · {fmtAgo(cur.time)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Fetched>
    </>
  );
}
