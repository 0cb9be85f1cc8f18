/** One approval request: gates, decisions, and approve / reject with a comment for those who may. */
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, apiSend } from "../lib/api";
import { useApi } from "../lib/useApi";
import type { ApprovalRequest, Model } from "../lib/types";
import { fmtTime } from "../lib/format";
import { actingUser, projectRole, useMe } from "../lib/me";
import { Badge, ErrorBox, Fetched, KV, Note } from "../components/ui";

export default function RequestPage() {
  const { id = "" } = useParams();
  const state = useApi<ApprovalRequest>(`/requests/${encodeURIComponent(id)}`);
  return (
    <Fetched state={state} what={`Request ${id}`}>
      {(r) => <RequestView req={r} reload={state.reload} />}
    </Fetched>
  );
}

function RequestView({ req, reload }: { req: ApprovalRequest; reload: () => void }) {
  const me = useMe();
  const model = useApi<Model>(`/models/${encodeURIComponent(req.model)}`);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const role = projectRole(me, model.data?.project);
  const approverRoles = model.data?.policy.approver_roles ?? [];
  const mayApprove = role === "admin" || approverRoles.includes(role);
  const actor = me?.authenticated ? me.name : actingUser(me);
  const isRequester = !!actor && actor === req.requested_by;
  const withdraw = async () => {
    setBusy(true);
    setError(null);
    try {
      await apiSend("POST", `/requests/${req.id}/cancel`, !me?.authenticated && actor ? { user: actor } : {});
      reload();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const decide = async (approve: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = {};
      if (comment) body.comment = comment;
      if (!me?.authenticated && actor) body.user = actor;
      await apiSend("POST", `/requests/${req.id}/${approve ? "approve" : "reject"}`, body);
      setComment("");
      reload();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <div className="crumbs">
        <Link to="/approvals">Approvals</Link> / #{req.id}
      </div>
      <div className="page-head">
        <h1>
          {req.model}:{req.version} → {req.kind} {req.target}
        </h1>
        <Badge kind={req.status}>{req.status}</Badge>
      </div>
      <div className="grid2">
        <div>
          <div className="panel">
            <KV
              rows={[
                ["version", <Link to={`/registry/${encodeURIComponent(req.model)}/versions/${req.version}`}>{req.model}:{req.version}</Link>],
                ["requested by", `${req.requested_by ?? "?"} at ${fmtTime(req.created_at)}`],
                ["comment", req.comment ?? "—"],
                ["approvals", `${req.approvals} of ${req.required_approvals} needed`],
                ["decided", fmtTime(req.decided_at)],
                ["approver roles", approverRoles.join(", ") || "…"],
              ]}
            />
          </div>
          <div className="panel">
            <h2 style={{ marginTop: 0 }}>Gates</h2>
            {req.gates.length === 0 ? <div className="muted">The model's policy has no gates.</div> : null}
            <table className="t" data-testid="gates">
              <tbody>
                {req.gates.map((g) => (
                  <tr key={g.gate}>
                    <td>{g.passed ? <Badge kind="ok">pass</Badge> : <Badge kind="bad">fail</Badge>}</td>
                    <td className="mono">{g.gate}</td>
                    <td className="muted">{g.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <div>
          <div className="panel">
            <h2 style={{ marginTop: 0 }}>Decisions</h2>
            {req.decisions.length === 0 ? (
              <div className="muted">None yet.</div>
            ) : (
              <table className="t" data-testid="decisions">
                <tbody>
                  {req.decisions.map((d, i) => (
                    <tr key={i}>
                      <td>{d.approve ? <Badge kind="approved">approved</Badge> : <Badge kind="rejected">rejected</Badge>}</td>
                      <td><b>{d.user}</b></td>
                      <td>{d.comment}</td>
                      <td className="muted">{fmtTime(d.time)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
          {req.status === "pending" ? (
            <div className="panel">
              <h2 style={{ marginTop: 0 }}>Decide</h2>
              {!model.data ? (
                <div className="loading">checking your role…</div>
              ) : !mayApprove ? (
                <Note>
                  Your role on {model.data.project} is <b>{role}</b>; this model's policy lets only {approverRoles.join(", ")} approve
                  or reject.
                </Note>
              ) : isRequester ? (
                <>
                  <Note>You requested this transition; another approver must decide.</Note>
                  <button disabled={busy} onClick={() => void withdraw()}>Withdraw the request</button>
                </>
              ) : !actor ? (
                <Note>The server runs without authentication: enter your name under “acting as” in the header to decide.</Note>
              ) : (
                <>
                  <textarea
                    aria-label="comment"
                    placeholder="comment (optional)"
                    value={comment}
                    onChange={(e) => setComment(e.target.value)}
                    rows={3}
                    style={{ width: "100%", marginBottom: 8 }}
                  />
                  <div className="toolbar">
                    <button className="ok" disabled={busy} onClick={() => void decide(true)}>
                      Approve
                    </button>
                    <button className="danger" disabled={busy} onClick={() => void decide(false)}>
                      Reject
                    </button>
                    <span className="muted small">as {actor}</span>
                  </div>
                </>
              )}
              {isRequester && model.data && !mayApprove ? (
                <button disabled={busy} onClick={() => void withdraw()}>Withdraw the request</button>
              ) : null}
              {error ? (
                error.status === 403 ? (
                  <div className="error-box" role="alert">
                    <b>Not allowed (403).</b> {error.message}
                  </div>
                ) : (
                  <ErrorBox error={error} />
                )
              ) : null}
            </div>
          ) : null}
        </div>
      </div>
    </>
  );
}
