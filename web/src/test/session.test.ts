import { apiSend, apiGet, getCsrfToken, onUnauthorized, setCsrfToken, signIn, signOut } from "../lib/api";
import { nextPath } from "../pages/SignIn";

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
const csrfError = { error: { type: "PermissionDeniedError", message: "send X-CSRF-Token", field: "X-CSRF-Token" } };
const session = { user: "bob", role: "member", key_id: "mlt_abcdefgh", expires_at: 2e9, csrf_token: "c1" };

type Call = { url: string; method: string; headers: Record<string, string>; credentials?: RequestCredentials };
let calls: Call[];

function serve(handler: (call: Call) => Response) {
  calls = [];
  global.fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const call = {
      url: String(url),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      credentials: init?.credentials,
    };
    calls.push(call);
    return handler(call);
  }) as typeof fetch;
}

beforeEach(() => setCsrfToken(null));

test("sign-in keeps the CSRF token in memory only and writes send it; reads do not", async () => {
  serve((c) => (c.url.endsWith("/session") ? json(session) : c.method === "GET" ? json([]) : json({}, 201)));
  await signIn("mlt_secret_key_value");
  expect(calls[0].method).toBe("POST");
  expect(getCsrfToken()).toBe("c1");
  expect(sessionStorage.length).toBe(0);
  expect(localStorage.getItem("mltrail.apiKey")).toBeNull();
  await apiGet("/runs");
  await apiSend("POST", "/keys", { name: "x" });
  expect(calls[1].headers["X-CSRF-Token"]).toBeUndefined();
  expect(calls[2].headers["X-CSRF-Token"]).toBe("c1");
  expect(calls.every((c) => c.credentials === "same-origin" && !("Authorization" in c.headers))).toBe(true);
});

test("a write refused for want of the token reads it from GET /session and is sent once more", async () => {
  serve((c) => {
    if (c.url.endsWith("/session")) return json({ ...session, csrf_token: "c2" });
    return c.headers["X-CSRF-Token"] === "c2" ? json({ ok: true }) : json(csrfError, 403);
  });
  await expect(apiSend("POST", "/requests/1/approve", {})).resolves.toEqual({ ok: true });
  expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
    "POST /api/v1/requests/1/approve",
    "GET /api/v1/session",
    "POST /api/v1/requests/1/approve",
  ]);
});

test("a CSRF refusal with a token that is already current is not retried forever", async () => {
  setCsrfToken("c1");
  serve((c) => (c.url.endsWith("/session") ? json(session) : json(csrfError, 403)));
  await expect(apiSend("POST", "/keys", {})).rejects.toMatchObject({ status: 403 });
  expect(calls.length).toBe(2);
});

test("a 401 tells the app, with the server's message, so it can go to sign-in", async () => {
  const seen: string[] = [];
  const off = onUnauthorized((e) => seen.push(e.message));
  serve(() => json({ error: { type: "AuthenticationError", message: "your session has ended: sign in again" } }, 401));
  await expect(apiGet("/me")).rejects.toMatchObject({ status: 401 });
  off();
  expect(seen).toEqual(["your session has ended: sign in again"]);
});

test("sign-out deletes the session with the token and forgets it even if the server fails", async () => {
  setCsrfToken("c1");
  serve(() => new Response(null, { status: 204 }));
  await signOut();
  expect(calls[0]).toMatchObject({ method: "DELETE", url: "/api/v1/session" });
  expect(calls[0].headers["X-CSRF-Token"]).toBe("c1");
  expect(getCsrfToken()).toBeNull();
  setCsrfToken("c1");
  serve(() => json({ error: { type: "StoreError", message: "down" } }, 503));
  await expect(signOut()).rejects.toMatchObject({ status: 503 });
  expect(getCsrfToken()).toBeNull();
});

test("after sign-in the app goes back to a path of its own only", () => {
  expect(nextPath("/runs/abc?tab=code")).toBe("/runs/abc?tab=code");
  expect(nextPath(null)).toBe("/projects");
  expect(nextPath("//evil.example/x")).toBe("/projects");
  expect(nextPath("https://evil.example/")).toBe("/projects");
  expect(nextPath("/signin?next=/x")).toBe("/projects");
});
