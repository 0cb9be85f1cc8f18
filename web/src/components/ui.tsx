/** Small shared pieces: error and loading states, not-found, badges, key-value tables, tabs. */
import type { ReactNode } from "react";
import { Link, useLocation, useSearchParams } from "react-router-dom";
import { ApiError } from "../lib/api";
import { fmtNum } from "../lib/format";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div className="error-box" role="alert">
      {e ? <span className="type">{e.status ? `${e.status} ${e.type}` : e.type}</span> : null}
      {error instanceof Error ? error.message : String(error)}
      {e?.field ? <span className="muted"> (field: {e.field})</span> : null}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <div className="loading">Loading{what ? ` ${what}` : ""}…</div>;
}

export function NotFound({ what }: { what?: string }) {
  const loc = useLocation();
  return (
    <div className="panel" data-testid="not-found">
      <h1>Not found</h1>
      <p>{what ?? <>Nothing lives at <code>{loc.pathname}</code>.</>}</p>
      <p>
        <Link to="/projects">Back to projects</Link>
      </p>
    </div>
  );
}

/** A fetched thing's three states: loading, an error (a 404 as not-found), or the content. */
export function Fetched<T>({
  state,
  what,
  children,
}: {
  state: { data: T | undefined; error: ApiError | null; loading: boolean };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (state.error?.status === 404) return <NotFound what={`${what}: ${state.error.message}`} />;
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <Loading what={what} />;
  return <>{children(state.data)}</>;
}

export function Badge({ kind, children }: { kind?: string | null; children: ReactNode }) {
  return <span className={`badge ${kind ?? ""}`}>{children}</span>;
}

export function KV({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <table className="t kv">
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

export function ValueTable({ values, empty }: { values: Record<string, unknown>; empty?: string }) {
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return <div className="muted">{empty ?? "None."}</div>;
  return (
    <table className="t kv">
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <td className="mono">{k}</td>
            <td className="mono">{fmtNum(values[k], 6)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Tabs({ tabs, param = "tab" }: { tabs: [string, string][]; param?: string }) {
  const [sp] = useSearchParams();
  const current = sp.get(param) ?? tabs[0][0];
  return (
    <nav className="tabs">
      {tabs.map(([id, label]) => {
        const next = new URLSearchParams(sp);
        next.set(param, id);
        return (
          <Link key={id} to={`?${next.toString()}`} className={current === id ? "active" : ""} replace>
            {label}
          </Link>
        );
      })}
    </nav>
  );
}

export function Note({ children }: { children: ReactNode }) {
  return <div className="note">{children}</div>;
}
