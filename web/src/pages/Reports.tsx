/** A project's reports: names, titles, versions, last change, and a form to start one (members). */
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { apiSend } from "../lib/api";
import { useApi } from "../lib/useApi";
import type { ReportDefinition } from "../lib/reports";
import { fmtAgo } from "../lib/format";
import { atLeast, projectRole, useMe } from "../lib/me";
import { ErrorBox, Fetched } from "../components/ui";

const STARTER = `# Title

What changed and why it matters.

\`\`\`mltrail-panel
type: runs
filter: metrics.acc > 0.9
\`\`\`
`;

export default function ReportsPage() {
  const { project = "" } = useParams();
  const nav = useNavigate();
  const state = useApi<{ reports: ReportDefinition[]; total: number }>(`/projects/${encodeURIComponent(project)}/reports`, {
    limit: 1000,
  });
  const mayCreate = atLeast(projectRole(useMe(), project), "member");
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const create = () => {
    apiSend<ReportDefinition>("POST", `/projects/${encodeURIComponent(project)}/reports`, { name, source: STARTER }).then(
      (r) => nav(`/projects/${encodeURIComponent(project)}/reports/${encodeURIComponent(r.name)}?edit=1`),
      setError,
    );
  };
  return (
    <>
      <div className="page-head">
        <h1>Reports</h1>
        <span className="sub">{project}</span>
      </div>
      <Fetched state={state} what="reports">
        {(d) =>
          d.reports.length === 0 ? (
            <div className="note">
              No reports in {project} yet (<code>mltrail reports create {project} NAME --from report.md</code>, docs/REPORTS.md).
            </div>
          ) : (
            <table className="t" data-testid="reports-table">
              <thead>
                <tr>
                  <th>Report</th>
                  <th>Title</th>
                  <th className="num">Version</th>
                  <th>Changed</th>
                </tr>
              </thead>
              <tbody>
                {d.reports.map((r) => (
                  <tr key={r.name} data-testid="report-row">
                    <td>
                      <Link to={`/projects/${encodeURIComponent(project)}/reports/${encodeURIComponent(r.name)}`}>{r.name}</Link>
                    </td>
                    <td>{r.title}</td>
                    <td className="num">{r.version}</td>
                    <td>
                      {fmtAgo(r.updated_at)} by {r.updated_by ?? "–"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Fetched>
      {mayCreate ? (
      <div className="panel">
        <label>
          New report{" "}
          <input aria-label="new report name" value={name} placeholder="name" onChange={(e) => setName(e.target.value)} />
        </label>{" "}
        <button disabled={!name} onClick={create}>
          Create
        </button>
        <ErrorBox error={error} />
      </div>
      ) : null}
    </>
  );
}
