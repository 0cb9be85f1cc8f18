/** The approvals inbox: transition requests of the models you may view, pending first. */
import { Link, useSearchParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { ApprovalRequest } from "../lib/types";
import { fmtAgo, fmtTime } from "../lib/format";
import { Badge, Fetched } from "../components/ui";

export default function ApprovalsPage() {
  const [sp, setSp] = useSearchParams();
  const status = sp.get("status") ?? "pending";
  // "for me": the pending requests you may decide (the model's policy lists a role you hold on its project,
  // and you did not ask), counted by the API (GET /requests?decidable=true).
  const forMe = status === "pending" && sp.get("for") === "me";
  const state = useApi<{ requests: ApprovalRequest[]; total: number }>("/requests", {
    status,
    limit: 100,
    ...(forMe ? { decidable: "true" } : {}),
  });
  return (
    <>
      <div className="page-head">
        <h1>Approvals</h1>
        {state.data ? (
          <span className="sub">
            {state.data.total} {status === "all" ? "" : status} request{state.data.total === 1 ? "" : "s"}
            {forMe ? " you may decide" : ""}
          </span>
        ) : null}
      </div>
      <div className="toolbar">
        <button className={forMe ? "primary" : ""} data-testid="for-me" onClick={() => setSp({ for: "me" }, { replace: true })}>
          waiting for me
        </button>
        {["pending", "approved", "rejected", "cancelled", "all"].map((s) => (
          <button key={s} className={s === status && !forMe ? "primary" : ""} onClick={() => setSp(s === "pending" ? {} : { status: s }, { replace: true })}>
            {s}
          </button>
        ))}
      </div>
      <Fetched state={state} what="requests">
        {(d) =>
          d.requests.length === 0 ? (
            <div className="note">{forMe ? "Nothing waits for your decision." : status === "pending" ? "Nothing waits for a decision." : "No requests."}</div>
          ) : (
            <>
            {d.total > d.requests.length ? <div className="note">Showing the first {d.requests.length} of {d.total} requests.</div> : null}
            <table className="t" data-testid="requests-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>model version</th>
                  <th>to</th>
                  <th>status</th>
                  <th>approvals</th>
                  <th>gates</th>
                  <th>requested</th>
                  <th>comment</th>
                </tr>
              </thead>
              <tbody>
                {d.requests.map((r) => (
                  <tr key={r.id}>
                    <td><Link to={`/approvals/${r.id}`}>#{r.id}</Link></td>
                    <td>
                      <Link to={`/registry/${encodeURIComponent(r.model)}/versions/${r.version}`}>{r.model}:{r.version}</Link>
                    </td>
                    <td>{r.kind} <b>{r.target}</b></td>
                    <td><Badge kind={r.status}>{r.status}</Badge></td>
                    <td>{r.approvals} / {r.required_approvals}</td>
                    <td>
                      {r.gates.length === 0 ? <span className="muted">none</span> : r.gates.every((g) => g.passed) ? <Badge kind="ok">{r.gates.length} pass</Badge> : <Badge kind="bad">{r.gates.filter((g) => !g.passed).length} fail</Badge>}
                    </td>
                    <td title={fmtTime(r.created_at)}>{fmtAgo(r.created_at)} by {r.requested_by ?? "?"}</td>
                    <td className="muted">{r.comment}</td>
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
