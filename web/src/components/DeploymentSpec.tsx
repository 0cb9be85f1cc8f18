/** A deployment spec drawn readable: primary, canary share, shadows, fallback chain, guards, budget, monitor. */
import { Link } from "react-router-dom";
import type { ReactNode } from "react";
import { inputGuardText, outputRuleText, refView, shadowRef, stepText, type Spec } from "../lib/deployments";

/** A reference with the version it resolved to, linked to that version's page. */
export function RefLink({ refName, resolved }: { refName: string; resolved?: Record<string, string> }) {
  const v = refView(refName, resolved);
  const label = v.resolved && v.resolved !== refName ? `${refName} → ${v.resolved}` : refName;
  return v.href ? (
    <Link to={v.href} className="mono">
      {label}
    </Link>
  ) : (
    <span className="mono">{label}</span>
  );
}


export function SpecView({ spec, resolved }: { spec: Spec; resolved?: Record<string, string> }) {
  const rows: [string, ReactNode][] = [["primary", <RefLink refName={spec.primary} resolved={resolved} />]];
  rows.push([
    "canary",
    spec.canary ? (
      <>
        <RefLink refName={spec.canary.ref} resolved={resolved} />{" "}
        <span className="muted">answers {spec.canary.percent}% of request keys (sticky per key)</span>
      </>
    ) : (
      <span className="muted">none</span>
    ),
  ]);
  const shadows = (spec.shadow ?? []).map(shadowRef);
  rows.push([
    "shadows",
    shadows.length ? (
      <ul className="plain">
        {shadows.map((s, i) => (
          <li key={i}>
            <RefLink refName={s.ref} resolved={resolved} />{" "}
            {s.monitor ? (
              <span className="muted">
                → monitor <Link to={`/monitoring/${encodeURIComponent(s.monitor)}`}>{s.monitor}</Link>
              </span>
            ) : (
              <span className="muted">scores a copy of every request, never answers</span>
            )}
          </li>
        ))}
      </ul>
    ) : (
      <span className="muted">none</span>
    ),
  ]);
  rows.push([
    "fallback chain",
    spec.fallback?.length ? (
      <ol className="plain" data-testid="fallback-chain">
        {spec.fallback.map((step, i) => (
          <li key={i}>
            {i + 1}. {"model" in step ? <>model <RefLink refName={step.model} resolved={resolved} /></> : <span className="mono">{stepText(step)}</span>}
          </li>
        ))}
      </ol>
    ) : (
      <span className="muted">none: a failed model is a 503</span>
    ),
  ]);
  const input = spec.guards?.input;
  const output = spec.guards?.output ?? [];
  rows.push(["input guard", input ? inputGuardText(input) : <span className="muted">none</span>]);
  rows.push([
    "output rules",
    output.length ? (
      <ol className="plain">
        {output.map((r, i) => (
          <li key={i} className="mono">
            {outputRuleText(r)}
          </li>
        ))}
      </ol>
    ) : (
      <span className="muted">none</span>
    ),
  ]);
  rows.push(["timeout", spec.timeout_ms !== undefined ? `${spec.timeout_ms} ms for the model; fallback models get what is left` : <span className="muted">no budget</span>]);
  rows.push([
    "monitor",
    spec.monitor ? (
      <Link to={`/monitoring/${encodeURIComponent(spec.monitor)}`} data-testid="monitor-link">
        {spec.monitor}
      </Link>
    ) : (
      <span className="muted">none: requests are not monitored</span>
    ),
  ]);
  return (
    <table className="t kv" data-testid="spec">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <td>{k}</td>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
