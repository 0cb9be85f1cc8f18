/** The frame: header with who you are, left navigation, and the page. */
import { useEffect, useState, type ReactNode } from "react";
import { NavLink, useLocation, useNavigate } from "react-router-dom";
import { apiGet, signOut } from "../lib/api";
import { useMe } from "../lib/me";

const NAV: [string, string][] = [
  ["/projects", "Projects"],
  ["/runs", "Runs"],
  ["/registry", "Registry"],
  ["/approvals", "Approvals"],
  ["/deployments", "Deployments"],
  ["/monitoring", "Monitoring"],
  ["/insights", "Insights"],
  ["/admin", "Admin"],
];

function ActAs() {
  const [name, setName] = useState(() => localStorage.getItem("mltrail.actAs") ?? "");
  return (
    <label className="who" title="The server runs without authentication: decisions and acknowledgements are recorded under this name">
      acting as{" "}
      <input
        aria-label="acting as"
        value={name}
        placeholder="your name"
        size={10}
        style={{ padding: "1px 6px", fontSize: 12 }}
        onChange={(e) => {
          setName(e.target.value);
          localStorage.setItem("mltrail.actAs", e.target.value);
        }}
      />
    </label>
  );
}

/** Counts beside Approvals and Monitoring: pending requests and open alerts, refreshed as you move around. */
function useCounts(ready: boolean, path: string): Record<string, number> {
  const [counts, setCounts] = useState<Record<string, number>>({});
  useEffect(() => {
    if (!ready) return;
    let live = true;
    Promise.all([
      apiGet<{ total: number }>("/requests", { status: "pending", limit: 1 }).then((r) => r.total, () => 0),
      apiGet<{ alerts: unknown[] }>("/alerts", { state: "open", limit: 500 }).then((r) => r.alerts.length, () => 0),
    ]).then(([pending, open]) => live && setCounts({ "/approvals": pending, "/monitoring": open }));
    return () => {
      live = false;
    };
  }, [ready, path.split("/")[1]]); // eslint-disable-line react-hooks/exhaustive-deps
  return counts;
}

export function Layout({ children, full }: { children: ReactNode; full?: boolean }) {
  const me = useMe();
  const nav = useNavigate();
  const loc = useLocation();
  const counts = useCounts(me !== null, loc.pathname);
  const project = /^\/projects\/([^/]+)/.exec(loc.pathname)?.[1];
  return (
    <div className="app">
      <header className="header">
        <span className="brand">
          <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden>
            <rect width="16" height="16" rx="3" fill="#2f5fd0" />
            <path d="M3 11l3-4 3 2 4-5" stroke="white" strokeWidth="1.6" fill="none" />
          </svg>
          mltrail
        </span>
        <span className="spacer" />
        {me ? (
          me.authenticated ? (
            <span className="who" data-testid="whoami">
              signed in as <b>{me.name}</b> · {me.role}
            </span>
          ) : (
            <>
              <span className="who" data-testid="whoami">
                no authentication · <b>{me.role}</b>
              </span>
              <ActAs />
            </>
          )
        ) : null}
        {me?.authenticated ? (
          <button
            onClick={() => {
              // Signed out on the server first; whatever it answers, the page goes to sign-in.
              void signOut()
                .catch(() => undefined)
                .then(() => nav("/signin", { state: { signedOut: true } }));
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      <nav className="nav" aria-label="main">
        {NAV.map(([to, label]) => (
          <div key={to}>
            <NavLink to={to} className={({ isActive }) => (isActive ? "active" : "")}>
              {label}
              {counts[to] ? (
                <span className={`count ${to === "/monitoring" ? "bad" : ""}`} title={to === "/monitoring" ? "open alerts" : "pending requests"}>
                  {counts[to] >= 500 ? "500+" : counts[to]}
                </span>
              ) : null}
            </NavLink>
            {to === "/projects" && project ? (
              <>
                <NavLink className="sub" to={`/projects/${project}/runs`} end>
                  {decodeURIComponent(project)} · runs
                </NavLink>
                <NavLink className="sub" to={`/projects/${project}/team`}>
                  team activity
                </NavLink>
                <NavLink className="sub" to={`/projects/${project}/reports`}>
                  reports
                </NavLink>
              </>
            ) : null}
          </div>
        ))}
      </nav>
      <main className={full ? "main full" : "main"}>{children}</main>
    </div>
  );
}
