/** A registry trail with filters in the URL and a CSV export link of the same query. */
import { useSearchParams } from "react-router-dom";
import { buildUrl, type Query } from "../lib/api";
import { useApi } from "../lib/useApi";
import type { AuditEvent } from "../lib/types";
import { fmtTime } from "../lib/format";
import { Fetched } from "./ui";

const ACTIONS = [
  "model_created", "version_created", "transition_requested", "transition_approved", "transition_rejected",
  "transition_cancelled", "stage_changed", "alias_moved", "alias_deleted", "policy_changed", "model_updated",
  "version_updated", "downloaded",
];

export function AuditTrail({ path }: { path: string }) {
  const [sp, setSp] = useSearchParams();
  const q: Query = {
    user: sp.get("a_user") || undefined,
    action: sp.get("a_action") || undefined,
    since: sp.get("a_since") || undefined,
    limit: 200,
  };
  const state = useApi<AuditEvent[]>(path, q);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(sp);
    if (v) next.set(k, v);
    else next.delete(k);
    setSp(next, { replace: true });
  };
  const csv = buildUrl(path, { ...q, limit: 10000, format: "csv" });
  return (
    <>
      <div className="toolbar">
        <input placeholder="user" defaultValue={sp.get("a_user") ?? ""} onBlur={(e) => set("a_user", e.target.value)} onKeyDown={(e) => e.key === "Enter" && set("a_user", (e.target as HTMLInputElement).value)} />
        <select value={sp.get("a_action") ?? ""} onChange={(e) => set("a_action", e.target.value)}>
          <option value="">any action</option>
          {ACTIONS.map((a) => <option key={a}>{a}</option>)}
        </select>
        <select value={sp.get("a_since") ?? ""} onChange={(e) => set("a_since", e.target.value)}>
          <option value="">all time</option>
          <option value="1d">last day</option>
          <option value="7d">last 7 days</option>
          <option value="30d">last 30 days</option>
        </select>
        {/* A plain link: the session cookie goes with it. */}
        <a href={csv} download="audit.csv" data-testid="audit-csv">Export CSV</a>
      </div>
      <Fetched state={state} what="audit trail">
        {(events) =>
          events.length === 0 ? (
            <div className="muted">No events.</div>
          ) : (
            <table className="t" data-testid="audit-table">
              <thead>
                <tr>
                  <th>time</th>
                  <th>user</th>
                  <th>action</th>
                  {path.startsWith("/registry") ? <th>model</th> : null}
                  <th>version</th>
                  <th>details</th>
                  <th>client</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e, i) => (
                  <tr key={e.id ?? i}>
                    <td style={{ whiteSpace: "nowrap" }}>{fmtTime(e.time)}</td>
                    <td>{e.user ?? "—"}</td>
                    <td className="mono" style={{ whiteSpace: "nowrap" }}>{e.action}</td>
                    {path.startsWith("/registry") ? <td>{e.model}</td> : null}
                    <td>{e.version ?? "—"}</td>
                    <td className="mono small" style={{ wordBreak: "break-all", maxWidth: 520 }}>
                      {e.details ? JSON.stringify(e.details) : ""}
                    </td>
                    <td className="small muted">{e.client} {e.user_agent}</td>
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
