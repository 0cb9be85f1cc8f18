import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import RunsPage from "../pages/Runs";
import { cellValue, columnId, mergeKeys, nextSort, parseColumn, quoteKey } from "../lib/columns";
import type { Run } from "../lib/types";

function run(id: string, lr: number, acc: number): Run {
  return {
    id, project: "p", name: `run-${id}`, status: "finished", user: "ana", start_time: 1_700_000_000, end_time: 1_700_000_100,
    heartbeat_at: null, duration: 100, notes: null, error: null, params: { lr, "learning rate": lr }, tags: { team: "a" },
    summary: {}, metrics: { "val/acc": { key: "val/acc", last: acc, last_step: 3, min: 0.1, max: acc, count: 4 } }, context: null,
  };
}

let urls: string[] = [];
beforeEach(() => {
  urls = [];
  global.ResizeObserver = class { observe() {} unobserve() {} disconnect() {} } as unknown as typeof ResizeObserver;
  global.fetch = vi.fn(async (url: RequestInfo | URL) => {
    urls.push(String(url));
    if (String(url).includes("/keys")) {
      const keys = { params: ["lr", "old_only"], metrics: ["val/acc"], tags: [], summary: [] };
      return new Response(JSON.stringify(keys), { status: 200, headers: { "Content-Type": "application/json" } });
    }
    const a1 = { ...run("a1", 0.1, 0.9), git: { commit: "9ffc16324b1f0a8a", branch: "main", dirty: true } };
    const b2 = { ...run("b2", 0.01, 0.95), git: null };
    const body = { runs: [a1, b2], total: 2, offset: 0, limit: 200 };
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
});

function Where() {
  const loc = useLocation();
  return <div data-testid="where">{loc.search}</div>;
}

function renderAt(url: string) {
  return render(
    <MemoryRouter initialEntries={[url]}>
      <Routes>
        <Route path="/projects/:project/runs" element={<><RunsPage /><Where /></>} />
      </Routes>
    </MemoryRouter>,
  );
}

const search = () => new URLSearchParams(screen.getByTestId("where").textContent ?? "");

describe("runs table state in the URL", () => {
  it("clicking a header sorts on the server and writes the sort to the URL", async () => {
    renderAt("/projects/p/runs");
    await screen.findByText("2 runs");
    fireEvent.click(screen.getByText("Name"));
    expect(search().get("sort")).toBe("name");
    // Any request since the click, not the last one: the column chooser's /keys request may come after it.
    await waitFor(() => expect(urls.some((u) => u.includes("/runs?") && u.includes("sort=name"))).toBe(true));
    fireEvent.click(screen.getByText(/^Name/));
    expect(search().get("sort")).toBe("-name");
    fireEvent.click(screen.getByText(/^Name/));
    expect(search().has("sort")).toBe(false);
  });

  it("a sort's page is asked for in the click handler, once, and a click on Commit sorts by git.commit", async () => {
    renderAt("/projects/p/runs");
    await screen.findByText("2 runs");
    await waitFor(() => expect(urls.some((u) => u.includes("/keys"))).toBe(true));
    const before = urls.length;
    fireEvent.click(screen.getByText("Commit"));
    // The request left before React re-rendered the page for the new URL.
    expect(urls.slice(before)).toEqual(["/api/v1/runs?project=p&sort=git.commit&offset=0&limit=100"]);
    expect(search().get("sort")).toBe("git.commit");
    await screen.findByText("2 runs");
    await new Promise((r) => setTimeout(r, 0));
    expect(urls.slice(before)).toHaveLength(1); // the page took the early answer instead of asking again
  });

  it("the column chooser writes chosen columns to the URL and the table shows them", async () => {
    renderAt("/projects/p/runs?filter=params.lr%20%3E%200");
    await screen.findByText("2 runs match");
    expect(urls[0]).toContain("filter=params.lr+%3E+0");
    fireEvent.click(screen.getByRole("button", { name: /Columns/ }));
    const chooser = screen.getByTestId("column-chooser");
    fireEvent.click(chooser.querySelector("input[type=checkbox]") as HTMLInputElement); // metrics val/acc last: on by default
    fireEvent.click(screen.getByLabelText("val/acc max"));
    fireEvent.click(screen.getByText("learning rate").previousSibling as HTMLInputElement);
    expect(search().getAll("col")).toEqual(["max(metrics.val/acc)", "params.`learning rate`"]);
    expect(screen.getAllByRole("columnheader").map((h) => h.textContent)).toContain("max(val/acc)");
    expect(search().get("filter")).toBe("params.lr > 0");
  });

  it("reads columns, sort and selection back from a shared link", async () => {
    renderAt("/projects/p/runs?col=params.lr&sort=-metrics.val/acc&sel=a1,b2");
    await screen.findByText("2 runs");
    const headers = screen.getAllByRole("columnheader");
    expect(headers.map((h) => h.textContent)).toContain("lr");
    expect(screen.getByRole("button", { name: "Compare (2)" })).toBeEnabled();
    expect(urls[0]).toContain("sort=-metrics.val%2Facc");
  });

  it("asks for a first page of 100 runs, and for the project's keys only once that page is shown", async () => {
    renderAt("/projects/p/runs");
    await screen.findByText("2 runs");
    await waitFor(() => expect(urls).toHaveLength(2));
    expect(urls).toEqual(["/api/v1/runs?project=p&offset=0&limit=100", "/api/v1/projects/p/keys"]);
  });
});

describe("commit column", () => {
  it("reads the commit from the list's git field: no request per row", async () => {
    renderAt("/projects/p/runs");
    await screen.findByText("2 runs");
    const git = parseColumn("git")!;
    const a1 = { ...run("a1", 0.1, 0.9), git: { commit: "9ffc16324b1f0a8a", branch: "main", dirty: true } };
    expect(cellValue(a1, git)).toBe("9ffc16324b1f0a8a");
    expect(cellValue({ ...run("b2", 0.1, 0.9), git: null }, git)).toBeNull();
    await new Promise((r) => setTimeout(r, 400)); // the old per-row fetch waited 250 ms for scrolling to settle
    expect(urls.filter((u) => /\/api\/v1\/runs\/[^?]/.test(u))).toEqual([]);
  });
});

describe("keys for the chooser", () => {
  it("come from the project's keys endpoint, so a key only older runs have is offered", async () => {
    renderAt("/projects/p/runs");
    await screen.findByText("2 runs");
    await waitFor(() => expect(urls.filter((u) => u.startsWith("/api/v1/projects/p/keys"))).toHaveLength(1));
    expect(urls.filter((u) => u.startsWith("/api/v1/runs?"))).toHaveLength(1); // no extra unfiltered page for keys
    fireEvent.click(screen.getByRole("button", { name: /Columns/ }));
    expect(await screen.findByText("old_only")).toBeInTheDocument();
  });

  it("merge without duplicates, sorted", () => {
    const a = { params: ["b", "a"], metrics: ["m"], tags: [], summary: [] };
    const merged = mergeKeys(a, { params: ["c", "a"], metrics: ["m"], tags: ["t"], summary: [] });
    expect(merged).toEqual({ params: ["a", "b", "c"], metrics: ["m"], tags: ["t"], summary: [] });
    expect(mergeKeys(a, { params: [], metrics: [], tags: [], summary: [] }).params).toBe(a.params);
  });
});

describe("column ids", () => {
  it("round-trip through the filter language's field syntax", () => {
    expect(columnId("metrics", "loss", "min")).toBe("min(metrics.loss)");
    expect(columnId("params", "learning rate")).toBe("params.`learning rate`");
    expect(quoteKey("a`b c")).toBe("`a``b c`");
    const c = parseColumn("params.`a``b c`")!;
    expect(c.key).toBe("a`b c");
    expect(parseColumn("max(metrics.val/acc)")).toMatchObject({ kind: "metrics", key: "val/acc", agg: "max" });
    expect(parseColumn("max(params.x)")).toBeNull();
    expect(parseColumn("bogus")).toBeNull();
  });

  it("cycles a header's sort: metrics start descending, text ascending", () => {
    expect(nextSort(null, "metrics.acc")).toBe("-metrics.acc");
    expect(nextSort("-metrics.acc", "metrics.acc")).toBe("metrics.acc");
    expect(nextSort("metrics.acc", "metrics.acc")).toBeNull();
    expect(nextSort("-metrics.acc", "name")).toBe("name");
  });
});
