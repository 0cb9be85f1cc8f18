/** A model: versions with stages and aliases, the card, the policy, and its audit trail. */
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { Model, ModelVersion } from "../lib/types";
import { fmtBytes, fmtTime } from "../lib/format";
import { Badge, Fetched, KV, Tabs } from "../components/ui";
import { AuditTrail } from "../components/Audit";

export default function ModelPage() {
  const { model = "" } = useParams();
  const state = useApi<Model>(`/models/${encodeURIComponent(model)}`);
  return (
    <Fetched state={state} what={`Model ${model}`}>
      {(m) => <ModelView model={m} />}
    </Fetched>
  );
}

function ModelView({ model }: { model: Model }) {
  const [sp] = useSearchParams();
  const tab = sp.get("tab") ?? "versions";
  const versions = useApi<{ versions: ModelVersion[]; total: number }>(`/models/${encodeURIComponent(model.name)}/versions`, { limit: 100 });
  const p = model.policy;
  return (
    <>
      <div className="crumbs">
        <Link to="/registry">Registry</Link> / {model.project}
      </div>
      <div className="page-head">
        <h1>{model.name}</h1>
        {Object.entries(model.aliases).map(([a, v]) => (
          <Badge key={a}>{a} → v{v}</Badge>
        ))}
        <span className="sub">{model.description}</span>
      </div>
      <Tabs tabs={[["versions", "Versions"], ["card", "Card & policy"], ["audit", "Audit trail"]]} />
      {tab === "versions" ? (
        <Fetched state={versions} what="versions">
          {(d) => (
            <>
            {d.total > d.versions.length ? <div className="note">Showing the first {d.versions.length} of {d.total} versions.</div> : null}
            <table className="t" data-testid="versions-table">
              <thead>
                <tr>
                  <th>version</th>
                  <th>stage</th>
                  <th>aliases</th>
                  <th>run</th>
                  <th>flavor</th>
                  <th className="num">size</th>
                  <th>registered</th>
                  <th>description</th>
                </tr>
              </thead>
              <tbody>
                {d.versions.map((v) => (
                  <tr key={v.version}>
                    <td>
                      <Link to={`/registry/${encodeURIComponent(model.name)}/versions/${v.version}`}>v{v.version}</Link>
                    </td>
                    <td>{v.stage ? <Badge kind={v.stage}>{v.stage}</Badge> : "—"}</td>
                    <td>{v.aliases.map((a) => <Badge key={a}>{a}</Badge>)}</td>
                    <td><Link to={`/runs/${v.run_id}`} className="mono">{v.run_id.slice(0, 8)}</Link></td>
                    <td>{v.flavor} <span className="muted">({v.format})</span></td>
                    <td className="num">{fmtBytes(v.size)}</td>
                    <td>{fmtTime(v.created_at)} <span className="muted">by {v.created_by ?? "?"}</span></td>
                    <td className="muted">{v.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            </>
          )}
        </Fetched>
      ) : null}
      {tab === "card" ? (
        <div className="grid2">
          <div className="panel">
            <h2 style={{ marginTop: 0 }}>Model card</h2>
            <KV rows={[["owner", model.owner ?? "—"], ["description", model.description ?? "—"], ...Object.entries(model.card).map(([k, v]) => [k.replace(/_/g, " "), typeof v === "string" ? v : JSON.stringify(v)] as [string, string])]} />
          </div>
          <div className="panel">
            <h2 style={{ marginTop: 0 }}>Approval policy</h2>
            <KV
              rows={[
                ["protected stages", p.protected_stages.join(", ") || "none"],
                ["protected aliases", p.protected_aliases.join(", ") || "none"],
                ["approvals needed", String(p.required_approvals)],
                ["approver roles", p.approver_roles.join(", ")],
                ["gates", p.gates.length ? p.gates.map((g) => <div key={g}><code>{g}</code></div>) : "none"],
                ["datasets required", p.require_datasets ? "yes" : "no"],
                ["signature required", p.require_signature ? "yes" : "no"],
                ["archive previous", p.archive_previous ? "yes" : "no"],
              ]}
            />
          </div>
        </div>
      ) : null}
      {tab === "audit" ? <AuditTrail path={`/models/${encodeURIComponent(model.name)}/audit`} /> : null}
    </>
  );
}
