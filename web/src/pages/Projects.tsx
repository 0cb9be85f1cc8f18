/** Projects with their run counts and last activity. */
import { Link } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { Project } from "../lib/types";
import { fmtAgo, fmtTime } from "../lib/format";
import { Fetched } from "../components/ui";
import { projectRole, useMe } from "../lib/me";

export function ProjectsPage() {
  const state = useApi<Project[]>("/projects");
  const me = useMe();
  return (
    <>
      <div className="page-head">
        <h1>Projects</h1>
        {state.data ? <span className="sub">{state.data.length} projects</span> : null}
      </div>
      <Fetched state={state} what="projects">
        {(projects) =>
          projects.length === 0 ? (
            <div className="note">No projects yet. Log a run with <code>mltrail.init(project=…)</code> to create one.</div>
          ) : (
            <table className="t" data-testid="projects-table">
              <thead>
                <tr>
                  <th>Project</th>
                  <th className="num">Runs</th>
                  <th>Last activity</th>
                  <th>Created</th>
                  <th>Your role</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {[...projects]
                  .sort((a, b) => (b.last_run_at ?? 0) - (a.last_run_at ?? 0))
                  .map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link to={`/projects/${encodeURIComponent(p.name)}/runs`}>{p.name}</Link>
                      </td>
                      <td className="num">{p.run_count.toLocaleString()}</td>
                      <td title={fmtTime(p.last_run_at)}>{fmtAgo(p.last_run_at)}</td>
                      <td>{fmtTime(p.created_at)}</td>
                      <td>{projectRole(me, p.name)}</td>
                      <td>
                        <Link to={`/projects/${encodeURIComponent(p.name)}/team`}>team activity</Link>
                      </td>
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
