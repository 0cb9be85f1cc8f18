import { onUnauthorized } from "../lib/api";
import { getEarly, prefetchRoute } from "../lib/prefetch";

let calls: string[] = [];
function serve(status = 200) {
  calls = [];
  global.fetch = vi.fn(async (url: RequestInfo | URL) => {
    calls.push(String(url));
    const body = status === 200 ? { url: String(url) } : { error: { type: "AuthError", message: "no key" } };
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
}

describe("early requests from the URL", () => {
  it("the runs page's first request is made before the page asks, and taken by it once", async () => {
    serve();
    prefetchRoute("/projects/my%20proj/runs", "?sort=-metrics.acc&col=params.lr");
    expect(calls).toEqual(["/api/v1/runs?project=my+proj&sort=-metrics.acc&offset=0&limit=100"]);
    const query = { project: "my proj", filter: undefined, sort: "-metrics.acc", offset: 0, limit: 100 };
    const page = await getEarly<{ url: string }>("/runs", query);
    expect(page.url).toBe(calls[0]);
    expect(calls).toHaveLength(1);
    await getEarly("/runs", query); // taken once: the same request again goes to the server
    expect(calls).toHaveLength(2);
  });

  it("a run page and a comparison ask for their runs; the sign-in page for nothing", () => {
    serve();
    prefetchRoute("/runs/abc123", "?tab=charts");
    prefetchRoute("/compare", "?runs=r1,r2&tab=charts");
    prefetchRoute("/signin", "?next=%2Fprojects");
    expect(calls).toEqual(["/api/v1/runs/abc123", "/api/v1/runs/r1", "/api/v1/runs/r2"]);
    return Promise.all(["abc123", "r1", "r2"].map((id) => getEarly(`/runs/${id}`)));
  });

  it("an early request that failed is asked again, so the app hears of a 401", async () => {
    serve(401);
    prefetchRoute("/runs/r9", "");
    await new Promise((r) => setTimeout(r, 0));
    const told = vi.fn();
    const stop = onUnauthorized(told);
    await expect(getEarly("/runs/r9")).rejects.toMatchObject({ status: 401 });
    expect(calls).toEqual(["/api/v1/runs/r9", "/api/v1/runs/r9"]);
    expect(told).toHaveBeenCalledTimes(1);
    stop();
  });
});
