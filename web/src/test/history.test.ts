import { chartPoints, historyRequest } from "../lib/history";
import { getEarly, prefetchRoute } from "../lib/prefetch";

describe("history requests", () => {
  it("ask for as many points as a chart card of the window is wide, rounded up to 128", () => {
    expect(chartPoints(1280)).toBe(512); // two cards of 512 px
    expect(chartPoints(1920)).toBe(512); // four cards of 410 px
    expect(chartPoints(800)).toBe(640); // one card of 556 px
    expect(chartPoints(0)).toBe(chartPoints(1280));
    expect(chartPoints(100_000)).toBe(384);
  });

  it("one run: its own route; several: one batch request, answered per run in their order", () => {
    const one = historyRequest(["r 1"], "val/loss", 500.4);
    expect([one.path, one.query]).toEqual(["/runs/r%201/metrics/history", { key: "val/loss", max_points: 500, min_step: undefined, max_step: undefined }]);
    const many = historyRequest(["a", "b", "c"], "loss", 384, [10.5, 20.2]);
    expect([many.path, many.query]).toEqual(["/metrics/history", { run: ["a", "b", "c"], key: "loss", max_points: 384, min_step: 10, max_step: 21 }]);
    const h = (run_id: string) => ({ run_id, key: "loss", steps: [1], values: [1], wall_times: [1], total_points: 1, downsampled: false });
    expect(many.pick({ histories: [h("c"), h("a")] }).map((x) => x?.run_id ?? null)).toEqual(["a", null, "c"]);
  });
});

describe("early history requests", () => {
  let calls: string[] = [];
  const answers: Record<string, unknown> = {};
  beforeEach(() => {
    calls = [];
    global.fetch = vi.fn(async (url: RequestInfo | URL) => {
      const u = String(url);
      calls.push(u);
      const key = Object.keys(answers).find((k) => u.startsWith(k));
      return new Response(JSON.stringify(key ? answers[key] : { histories: [] }), { status: 200, headers: { "Content-Type": "application/json" } });
    }) as typeof fetch;
  });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  const points = chartPoints(window.innerWidth);

  it("a run's charts tab asks for each chart's history as soon as the run answers", async () => {
    answers["/api/v1/runs/run1"] = { id: "run1", metrics: { loss: {}, "sys/cpu": {}, acc: {} } };
    prefetchRoute("/runs/run1", "?tab=charts");
    await settle();
    expect(calls).toEqual([
      "/api/v1/runs/run1",
      `/api/v1/runs/run1/metrics/history?key=acc&max_points=${points}`,
      `/api/v1/runs/run1/metrics/history?key=loss&max_points=${points}`,
    ]);
    // MetricChart's first request is this one, so it takes the answer already on its way.
    const req = historyRequest(["run1"], "loss", points);
    await getEarly(req.path, req.query);
    expect(calls).toHaveLength(3);
  });

  it("a comparison's metrics tab asks once per chart, with every run that has the metric", async () => {
    answers["/api/v1/runs?project=p"] = {
      runs: [{ id: "r2", metrics: { loss: {} } }, { id: "r1", metrics: { loss: {}, acc: {} } }],
      total: 2,
    };
    prefetchRoute("/compare", "?runs=r1,r2&project=p&tab=charts");
    await settle();
    expect(calls.slice(1)).toEqual([
      `/api/v1/runs/r1/metrics/history?key=acc&max_points=${points}`,
      `/api/v1/metrics/history?run=r1&run=r2&key=loss&max_points=${points}`,
    ]);
    prefetchRoute("/compare", "?runs=r1,r2,r3&project=p&tab=charts"); // r3 not found: no early charts
    await settle();
    expect(calls).toHaveLength(4);
  });
});
