import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { compareRows } from "../lib/compare";
import { CompareTable, fetchRuns } from "../pages/Compare";
import type { Run } from "../lib/types";

const runs = [{ id: "a", name: "a" }, { id: "b", name: "b" }, { id: "c", name: "c" }] as Run[];

describe("compare", () => {
  it("marks a row as differing when any value (or its absence) differs", () => {
    const rows = compareRows([
      { lr: 0.1, opt: "adam", seed: 1, nan: NaN },
      { lr: 0.1, opt: "sgd", seed: 1, nan: NaN },
      { lr: 0.1, seed: 1, nan: NaN, cfg: { a: 1 } },
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.key, r.differs]))).toEqual({ cfg: true, lr: false, nan: false, opt: true, seed: false });
  });

  it("highlights differing rows and hides equal ones with 'only differences'", () => {
    const rows = compareRows([{ lr: 0.1, opt: "adam" }, { lr: 0.1, opt: "sgd" }, { lr: 0.1, opt: "adam" }]);
    const { container, rerender } = render(
      <MemoryRouter><CompareTable title="Params" runs={runs} rows={rows} onlyDiff={false} /></MemoryRouter>,
    );
    const trs = [...container.querySelectorAll("tbody tr")];
    expect(trs.map((t) => [t.firstChild!.textContent, t.classList.contains("differs")])).toEqual([["lr", false], ["opt", true]]);
    rerender(<MemoryRouter><CompareTable title="Params" runs={runs} rows={rows} onlyDiff /></MemoryRouter>);
    expect([...container.querySelectorAll("tbody tr")].map((t) => t.firstChild!.textContent)).toEqual(["opt"]);
    expect(container.textContent).toContain("1 of 2 differ");
  });
});

describe("the runs of a comparison", () => {
  let calls: string[] = [];
  beforeEach(() => {
    calls = [];
    global.fetch = vi.fn(async (url: RequestInfo | URL) => {
      const u = String(url);
      calls.push(u);
      // The search finds r2 and r1 (newest first); r3 is a prefix it does not match, asked for by itself.
      const body = u.startsWith("/api/v1/runs?")
        ? { runs: [{ id: "r2", name: "two" }, { id: "r1", name: "one" }], total: 2, offset: 0, limit: 3 }
        : { id: "r3full", name: "three" };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }) as typeof fetch;
  });

  it("come from one search of their project, in the link's order; what it misses, one by one", async () => {
    const got = await fetchRuns("p 1", ["r1", "r2", "r3"]);
    expect(got.map((r) => r.name)).toEqual(["one", "two", "three"]);
    expect(calls).toEqual([
      `/api/v1/runs?${new URLSearchParams({ project: "p 1", filter: 'id in ("r1", "r2", "r3")', limit: "3" })}`,
      "/api/v1/runs/r3",
    ]);
  });

  it("a link without the project asks for each run", async () => {
    await fetchRuns(null, ["r3", "r4"]);
    expect(calls).toEqual(["/api/v1/runs/r3", "/api/v1/runs/r4"]);
  });
});
