/**
 * The first data a page needs, requested by main.tsx from the URL before React renders and before the
 * page's lazily loaded code arrives. The page's own request (same path, same query) goes through
 * ``getEarly``, which takes the answer already on its way instead of asking only once the page's chunk is
 * loaded and rendered (the runs table's first request left ~430-750 ms after navigation, now ~230 ms on the
 * busy 2-core machine of benchmarks/RESULTS.md).
 */
import { apiFetch, apiGet, buildUrl, type Query } from "./api";
import { compareQuery, runsPageQuery } from "./runsQuery";
import { firstChartPoints, historyRequest } from "./history";
import type { Run, RunPage } from "./types";

const early = new Map<string, Promise<unknown>>();
const EARLY_TTL_MS = 10_000;

/** Start a GET now; the first ``getEarly`` of the same path and query within 10 s gets its answer. The
 * answer is also returned, for early requests that depend on it (a run's charts on the run). */
export function prefetch(path: string, query?: Query): Promise<unknown> {
  const url = buildUrl(path, query);
  const known = early.get(url);
  if (known) return known;
  const answer = apiFetch(path, { query }).then((res) => res.json() as Promise<unknown>);
  answer.catch(() => undefined); // nobody may take it; whoever does asks again on an error
  early.set(url, answer);
  setTimeout(() => {
    if (early.get(url) === answer) early.delete(url);
  }, EARLY_TTL_MS);
  return answer;
}

/** The metric keys a chart grid shows: the system ones (``sys/…``) or the others, sorted. */
export function chartKeys(runs: Pick<Run, "metrics">[], system: boolean): string[] {
  const keys = new Set<string>();
  runs.forEach((r) => Object.keys(r.metrics).forEach((k) => k.startsWith("sys/") === system && keys.add(k)));
  return [...keys].sort();
}

/** Ask early for the first history request of each chart of a grid of ``runs`` (as MetricChart makes it). */
function prefetchCharts(runs: Run[], system: boolean): void {
  const points = firstChartPoints();
  for (const key of chartKeys(runs, system)) {
    const req = historyRequest(runs.filter((r) => key in r.metrics).map((r) => r.id), key, points);
    prefetch(req.path, req.query);
  }
}

/** ``apiGet``, answered by an early request of the same URL when there is one (each is taken once). An
 * early request that failed is asked again, so errors (a 401 before the app listened) reach the app as usual. */
export async function getEarly<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  const url = buildUrl(path, query);
  const taken = early.get(url);
  if (taken) {
    early.delete(url);
    try {
      return (await taken) as T;
    } catch {
      /* asked again below */
    }
  }
  return apiGet<T>(path, query, signal);
}

/** The early requests of the page at this URL. */
export function prefetchRoute(pathname: string, search: string): void {
  if (pathname === "/signin") return;
  const sp = new URLSearchParams(search);
  const runs = /^\/projects\/([^/]+)\/runs\/?$/.exec(pathname);
  if (runs) {
    prefetch("/runs", runsPageQuery(decodeURIComponent(runs[1]), sp.get("filter") ?? "", sp.get("sort"), 0));
    return;
  }
  const tab = sp.get("tab");
  const run = /^\/runs\/([^/]+)\/?$/.exec(pathname);
  if (run) {
    const answer = prefetch(`/runs/${encodeURIComponent(decodeURIComponent(run[1]))}`);
    // The charts' histories leave as soon as the run names its metrics, not after the page has laid out.
    if (tab === "charts" || tab === "system") {
      answer.then((r) => prefetchCharts([r as Run], tab === "system")).catch(() => undefined);
    }
    return;
  }
  if (pathname === "/compare") {
    const ids = (sp.get("runs") ?? "").split(",").filter(Boolean).slice(0, 50);
    const project = sp.get("project");
    if (project && ids.length) {
      const answer = prefetch("/runs", compareQuery(project, ids));
      if (tab === "charts") {
        answer
          .then((page) => {
            const byId = new Map((page as RunPage).runs.map((r) => [r.id, r]));
            // Only when the search found every run: otherwise the page's run list (and so its requests) differ.
            if (ids.every((id) => byId.has(id))) prefetchCharts(ids.map((id) => byId.get(id)!), false);
          })
          .catch(() => undefined);
      }
    } else ids.forEach((id) => prefetch(`/runs/${encodeURIComponent(id)}`));
  }
}
