/** /runs: pick a project (the runs API is per project). */
import { Link, Navigate } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { Project } from "../lib/types";
import { Fetched } from "../components/ui";

export default function RunsIndex() {
  const state = useApi<Project[]>("/projects");
  return (
    <Fetched state={state} what="projects">
      {(projects) =>
        projects.length === 1 ? (
          <Navigate to={`/projects/${encodeURIComponent(projects[0].name)}/runs`} replace />
        ) : (
          <>
            <h1>Runs</h1>
            <p className="muted">Runs are listed per project. Choose one:</p>
            <ul>
              {projects.map((p) => (
                <li key={p.name}>
                  <Link to={`/projects/${encodeURIComponent(p.name)}/runs`}>{p.name}</Link>{" "}
                  <span className="muted">({p.run_count} runs)</span>
                </li>
              ))}
            </ul>
          </>
        )
      }
    </Fetched>
  );
}
