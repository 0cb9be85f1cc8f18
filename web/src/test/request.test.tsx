import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import RequestPage from "../pages/Request";
import { MeContext } from "../lib/me";
import type { Me } from "../lib/types";

const request = {
  id: 1, model: "m", version: 2, kind: "stage", target: "production", status: "pending", requested_by: "ana",
  comment: "ship it", created_at: 1_700_000_000, required_approvals: 1, approvals: 0, decided_at: null,
  gates: [{ gate: "metrics.acc >= 0.9", passed: true, detail: "passed" }], decisions: [],
};
const model = { name: "m", project: "p", policy: { approver_roles: ["maintainer", "admin"] }, aliases: {}, card: {} };

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  global.fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const u = String(url);
    if (u.endsWith("/approve") && init?.method === "POST")
      return json({ error: { type: "PermissionDeniedError", message: "bob may not approve on p", field: null, position: null } }, 403);
    if (u.includes("/requests/1")) return json(request);
    if (u.includes("/models/m")) return json(model);
    return json({ error: { type: "NotFoundError", message: "no" } }, 404);
  }) as typeof fetch;
});

function renderAs(me: Me) {
  return render(
    <MeContext.Provider value={me}>
      <MemoryRouter initialEntries={["/approvals/1"]}>
        <Routes>
          <Route path="/approvals/:id" element={<RequestPage />} />
        </Routes>
      </MemoryRouter>
    </MeContext.Provider>,
  );
}

const me = (name: string, role: string): Me => ({ authenticated: true, name, role, key_id: "k", projects: [{ project: "p", role }] });

describe("approval request", () => {
  it("hides approve and reject from a role the policy does not list", async () => {
    renderAs(me("vic", "viewer"));
    await screen.findByText(/lets only maintainer, admin approve/);
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
  });

  it("hides them from the requester, who may withdraw instead", async () => {
    renderAs(me("ana", "maintainer"));
    await screen.findByText(/another approver must decide/);
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(screen.getByRole("button", { name: "Withdraw the request" })).toBeInTheDocument();
  });

  it("shows a 403 clearly when the server refuses anyway", async () => {
    renderAs(me("bob", "maintainer"));
    fireEvent.click(await screen.findByRole("button", { name: "Approve" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Not allowed (403).");
    expect(alert.textContent).toContain("bob may not approve on p");
  });
});
