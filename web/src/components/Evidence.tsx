/** Evidence per variant of a deployment (GET /deployments/{name}/evidence): traffic, errors, fallback and
 * guard rates, latency, agreement with the primary, realized performance. A 404 of the route (a server
 * without it) says the evidence is not available rather than failing the page. */
import { Link } from "react-router-dom";
import { useApi } from "../lib/useApi";
import { ms, pct, refView, type Evidence, type VariantEvidence } from "../lib/deployments";
import { fmtNum, fmtTime } from "../lib/format";
import { ErrorBox, Loading, Note } from "./ui";

function agreement(v: VariantEvidence): string {
  const a = v.agreement;
  if (!a) return v.variant === "primary" ? "(reference)" : "—";
  if (a.value === null) return `— (0 of ${fmtNum(a.compared)})`;
  const value = a.kind === "classes" ? pct(a.value) : `MAE ${fmtNum(a.value, 3)}`;
  return `${value} of ${fmtNum(a.compared)}`;
}

function performance(v: VariantEvidence): string {
  const p = v.performance;
  if (!p) return "—";
  return `${p.metric} ${p.value === null ? "—" : fmtNum(p.value, 3)} (${fmtNum(p.labelled)} labelled)`;
}

export function EvidencePanel({ name }: { name: string }) {
  const state = useApi<Evidence>(`/deployments/${encodeURIComponent(name)}/evidence`);
  if (state.error?.status === 404)
    return (
      <Note>
        <span data-testid="evidence-unavailable">Evidence is not available from this server</span> ({state.error.message}). The gateway's own
        figures are at <code>/metrics</code> of <code>mltrail serve {name}</code>.
      </Note>
    );
  if (state.error) return <ErrorBox error={state.error} />;
  if (!state.data) return <Loading what="evidence" />;
  const ev = state.data;
  return (
    <>
      <div className="muted small" style={{ marginBottom: 6 }}>
        spec v{ev.version}
        {ev.since || ev.until ? ` · ${fmtTime(ev.since)} – ${fmtTime(ev.until)}` : ""}
      </div>
      {ev.variants.length === 0 ? (
        <div className="muted" data-testid="evidence-empty">
          No requests counted for this spec version yet.
        </div>
      ) : (
        <div style={{ overflowX: "auto" }}>
          <table className="t" data-testid="evidence">
            <thead>
              <tr>
                <th>Variant</th>
                <th>Model</th>
                <th className="num">Requests</th>
                <th className="num">Rows</th>
                <th className="num">Errors</th>
                <th className="num">Fallback</th>
                <th className="num">Guards</th>
                <th className="num">p50</th>
                <th className="num">p95</th>
                <th className="num">p99</th>
                <th>Agreement</th>
                <th>Performance</th>
              </tr>
            </thead>
            <tbody>
              {ev.variants.map((v) => {
                const ref = refView(v.model);
                return (
                  <tr key={v.variant} data-testid="evidence-row">
                    <td>
                      <b>{v.variant}</b>
                    </td>
                    <td>{ref.href ? <Link to={ref.href} className="mono">{v.model}</Link> : <span className="mono">{v.model}</span>}</td>
                    <td className="num">{fmtNum(v.requests)}</td>
                    <td className="num">{fmtNum(v.rows)}</td>
                    <td className="num" title={`${fmtNum(v.errors)} errors`}>
                      {pct(v.error_rate)}
                    </td>
                    <td className="num">{pct(v.fallback_rate)}</td>
                    <td className="num">{pct(v.guard_rate)}</td>
                    <td className="num">{ms(v.latency_ms?.p50)}</td>
                    <td className="num">{ms(v.latency_ms?.p95)}</td>
                    <td className="num">{ms(v.latency_ms?.p99)}</td>
                    <td>{agreement(v)}</td>
                    <td>{performance(v)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
