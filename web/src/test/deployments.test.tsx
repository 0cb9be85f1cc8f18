import { configure, fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import DeploymentPage from "../pages/Deployment";
import DeploymentsPage from "../pages/Deployments";
import { MeContext } from "../lib/me";
import type { Me } from "../lib/types";
import { lineDiff, refView, specText, stepText, versionText, type DeploymentVersion, type Evidence } from "../lib/deployments";

const v1: DeploymentVersion = {
  deployment: "churn",
  version: 1,
  spec: { primary: "churn@production", monitor: "churn-mon" },
  action: "created",
  user: "ana",
  time: 1_700_000_000,
  comment: "first",
  details: { resolved: { "churn@production": "churn:3" } },
  client: "127.0.0.1",
  user_agent: null,
};
const v2: DeploymentVersion = {
  ...v1,
  version: 2,
  action: "updated",
  user: "bob",
  time: 1_700_000_600,
  comment: "add a shadow and a fallback",
  spec: {
    primary: "churn@production",
    canary: { ref: "churn:4", percent: 10 },
    shadow: ["churn@challenger"],
    fallback: [{ model: "churn:2" }, { rule: "threshold", feature: "tenure", threshold: 12, above: 0, below: 1 }, { rule: "constant", value: 0 }],
    guards: { input: { on_invalid: "fallback" }, output: [{ clip: { min: 0, max: 1 } }, { when: "amount > 10000", then: "manual_review" }] },
    timeout_ms: 50,
    monitor: "churn-mon",
  },
  details: { resolved: { "churn@production": "churn:3", "churn:4": "churn:4", "churn@challenger": "churn:5", "churn:2": "churn:2" } },
};
const deployment = { name: "churn", project: "p", created_at: v1.time, created_by: "ana", version: 2, current: v2 };
const evidence: Evidence = {
  deployment: "churn",
  version: 2,
  since: 1_700_000_600,
  until: 1_700_003_600,
  variants: [
    { variant: "primary", model: "churn:3", requests: 900, rows: 900, errors: 9, error_rate: 0.01, fallback_rate: 0.02, guard_rate: 0, latency_ms: { p50: 1.25, p95: 3.5, p99: 12 }, agreement: null, performance: { metric: "accuracy", value: 0.91, labelled: 400 } },
    { variant: "shadow[0]", model: "churn:5", requests: 900, rows: 900, errors: 0, error_rate: 0, fallback_rate: null, guard_rate: null, latency_ms: { p50: 2, p95: 4, p99: 6 }, agreement: { kind: "classes", value: 0.973, compared: 891 }, performance: null },
  ],
};

// The page waits on several requests; under a loaded machine a second is not always enough.
configure({ asyncUtilTimeout: 5000 });

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
const notFound = (message: string) => json({ error: { type: "NotFoundError", message } }, 404);

let evidenceAnswer: () => Response;
let calls: { url: string; method: string; body: unknown }[];

beforeEach(() => {
  calls = [];
  evidenceAnswer = () => notFound("no route /api/v1/deployments/churn/evidence");
  global.fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const u = String(url);
    const method = init?.method ?? "GET";
    calls.push({ url: u, method, body: init?.body ? JSON.parse(String(init.body)) : null });
    if (u.includes("/rollback") && method === "POST") {
      const body = JSON.parse(String(init?.body));
      if (body.user === "vic") return json({ error: { type: "PermissionDeniedError", message: "vic is a viewer of p", field: null } }, 403);
      return json({ ...deployment, version: 3, current: { ...v1, version: 3, action: "rolled_back" } });
    }
    if (u.includes("/deployments/churn/evidence")) return evidenceAnswer();
    if (u.includes("/deployments/churn/versions")) return json({ versions: [v2, v1], total: 2 });
    if (u.includes("/deployments/churn")) return json(deployment);
    if (u.includes("/deployments/nope")) return notFound("no deployment 'nope'");
    if (u.includes("/api/v1/deployments")) return json({ deployments: [deployment], total: 1 });
    if (u.includes("/api/v1/projects")) return json([{ id: 1, name: "p", created_at: 0, run_count: 0, last_run_at: null }]);
    return notFound("no");
  }) as typeof fetch;
});

function Where() {
  const loc = useLocation();
  return <div data-testid="where">{loc.search}</div>;
}

function renderAt(path: string, me: Me | null = null) {
  return render(
    <MeContext.Provider value={me}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/deployments" element={<DeploymentsPage />} />
          <Route path="/deployments/:name" element={<><DeploymentPage /><Where /></>} />
        </Routes>
      </MemoryRouter>
    </MeContext.Provider>,
  );
}

const me = (name: string, role: string): Me => ({ authenticated: true, name, role, key_id: "k", projects: [{ project: "p", role }] });

describe("deployment helpers", () => {
  it("links a reference to the version it resolved to", () => {
    expect(refView("churn@production", { "churn@production": "churn:3" })).toEqual({ ref: "churn@production", resolved: "churn:3", href: "/registry/churn/versions/3" });
    expect(refView("churn:7").href).toBe("/registry/churn/versions/7");
    expect(refView("churn@next").href).toBeNull();
  });

  it("writes a spec as sorted, indented lines", () => {
    expect(specText({ b: [1, { y: 2, x: "a" }], a: { c: null } })).toEqual(["a:", "  c: null", "b:", "  - 1", '  - x: "a"', "    y: 2"]);
  });

  it("says each fallback step in words", () => {
    expect(stepText({ model: "churn:2" })).toBe("model churn:2");
    expect(stepText({ rule: "threshold", feature: "tenure", threshold: 12, above: 0, below: 1 })).toBe("tenure ≥ 12 → 0, else 1");
    expect(stepText({ rule: "constant", value: "review" })).toBe('constant "review"');
  });

  it("diffs two versions line by line, resolved versions included", () => {
    const lines = lineDiff(versionText(v1), versionText(v2));
    const added = lines.filter((l) => l.kind === "add").map((l) => l.text.trim());
    const removed = lines.filter((l) => l.kind === "del").map((l) => l.text.trim());
    expect(added).toContain("timeout_ms: 50");
    expect(added).toContain('- model: "churn:2"');
    expect(added).toContain("churn@challenger → churn:5");
    expect(removed).toEqual([]);
    expect(lines.filter((l) => l.kind === "ctx").map((l) => l.text.trim())).toContain('primary: "churn@production"');
    expect(lineDiff(["a", "b"], ["a", "b"]).every((l) => l.kind === "ctx")).toBe(true);
    expect(lineDiff(["a", "x", "c"], ["a", "y", "c"]).map((l) => l.kind)).toEqual(["ctx", "add", "del", "ctx"]);
  });
});

describe("deployments list", () => {
  it("shows each deployment's models, spec version and last change", async () => {
    renderAt("/deployments?project=p");
    const row = await screen.findByTestId("deployment-row");
    expect(within(row).getByRole("link", { name: "churn" })).toHaveAttribute("href", "/deployments/churn");
    expect(within(row).getByRole("link", { name: "churn@production → churn:3" })).toHaveAttribute("href", "/registry/churn/versions/3");
    expect(within(row).getByRole("link", { name: "churn@challenger → churn:5" })).toBeInTheDocument();
    expect(row.textContent).toContain("10%");
    expect(row.textContent).toContain("v2");
    expect(row.textContent).toContain("updated by bob");
    expect(calls.some((c) => c.url.includes("/api/v1/deployments?project=p"))).toBe(true);
  });
});

describe("deployment page", () => {
  it("draws the spec readable, with links to versions and the monitor", async () => {
    renderAt("/deployments/churn", me("bob", "member"));
    const spec = await screen.findByTestId("spec");
    expect(within(spec).getByRole("link", { name: "churn@production → churn:3" })).toHaveAttribute("href", "/registry/churn/versions/3");
    expect(spec.textContent).toContain("answers 10% of request keys");
    const chain = screen.getByTestId("fallback-chain");
    expect(chain.textContent).toContain("1. model churn:2");
    expect(chain.textContent).toContain("2. tenure ≥ 12 → 0, else 1");
    expect(chain.textContent).toContain("3. constant 0");
    expect(spec.textContent).toContain("send to the fallback rows that break the monitor's validation schema");
    expect(spec.textContent).toContain('when amount > 10000 → "manual_review"');
    expect(spec.textContent).toContain("50 ms");
    expect(screen.getByTestId("monitor-link")).toHaveAttribute("href", "/monitoring/churn-mon");
  });

  it("says evidence is not available when the server has no evidence route", async () => {
    renderAt("/deployments/churn", me("bob", "member"));
    expect(await screen.findByTestId("evidence-unavailable")).toBeInTheDocument();
  });

  it("shows the evidence per variant when the server has it", async () => {
    evidenceAnswer = () => json(evidence);
    renderAt("/deployments/churn", me("bob", "member"));
    const rows = await screen.findAllByTestId("evidence-row");
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain("primary");
    expect(rows[0].textContent).toContain("1.0%"); // error rate
    expect(rows[0].textContent).toContain("12 ms"); // p99
    expect(rows[0].textContent).toContain("accuracy 0.91 (400 labelled)");
    expect(rows[1].textContent).toContain("97.3% of 891");
    expect(within(rows[1]).getByRole("link", { name: "churn:5" })).toHaveAttribute("href", "/registry/churn/versions/5");
  });

  it("lists the history and diffs the current version against the previous, or two picked", async () => {
    renderAt("/deployments/churn", me("vic", "viewer"));
    const rows = await screen.findAllByTestId("history-row");
    expect(rows[0].textContent).toContain("add a shadow and a fallback");
    expect(rows[0].textContent).toContain("churn@challenger → churn:5");
    const diff = screen.getByTestId("spec-diff");
    expect(diff.textContent).toContain("v1 → v2");
    fireEvent.click(screen.getByLabelText("compare to v1"));
    expect(screen.getByTestId("where").textContent).toBe("?to=1");
    expect(screen.getByTestId("spec-diff").textContent).toContain("the same spec and versions");
  });

  it("shows an older version's spec from the URL", async () => {
    renderAt("/deployments/churn?v=1", me("vic", "viewer"));
    await screen.findByText("v1, not current");
    await screen.findAllByTestId("history-row");
    expect(screen.queryByTestId("fallback-chain")).toBeNull();
  });

  it("says so when the URL names a version the deployment does not have", async () => {
    renderAt("/deployments/churn?v=9", me("vic", "viewer"));
    await screen.findByText("churn has no version 9: it is at v2.");
  });

  it("gives viewers no rollback button", async () => {
    renderAt("/deployments/churn", me("vic", "viewer"));
    await screen.findByText(/members roll back/);
    expect(screen.queryByRole("button", { name: /Roll back/ })).toBeNull();
  });

  it("lets a member roll back to the previous version", async () => {
    renderAt("/deployments/churn", me("bob", "member"));
    fireEvent.change(await screen.findByLabelText("rollback comment"), { target: { value: "canary is worse" } });
    fireEvent.click(screen.getByRole("button", { name: "Roll back to v1" }));
    await screen.findByText(/the spec is now v3/);
    const post = calls.find((c) => c.method === "POST");
    expect(post?.url).toBe("/api/v1/deployments/churn/rollback");
    expect(post?.body).toEqual({ to_version: 1, comment: "canary is worse" });
  });

  it("shows a 403 plainly when the server refuses a rollback", async () => {
    localStorage.setItem("mltrail.actAs", "vic");
    renderAt("/deployments/churn", { authenticated: false, name: null, role: "admin", key_id: null, projects: [] });
    fireEvent.click(await screen.findByRole("button", { name: "Roll back to v1" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Not allowed (403).");
    expect(alert.textContent).toContain("vic is a viewer of p");
    localStorage.removeItem("mltrail.actAs");
  });

  it("shows a not-found page for an unknown deployment", async () => {
    renderAt("/deployments/nope");
    expect(await screen.findByTestId("not-found")).toHaveTextContent("no deployment 'nope'");
  });
});
