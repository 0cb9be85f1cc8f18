/**
 * The first data a page needs, requested by main.tsx from the URL before React renders and before the
 * page's lazily loaded code arrives. The page's own request (same path, same query) goes through
 * ``getEarly``, which takes the answer already on its way instead of asking only once the page's chunk is
 * loaded and rendered (the runs table's first request left ~430-750 ms after navigation, now ~230 ms on the
 * busy 2-core machine of benchmarks/RESULTS.md).
 */
import { apiFetch, apiGet, buildUrl, type Query } from "./api";
import { compareQuery, runsPageQuery } from "./runsQuery";

const early = new Map<string, Promise<unknown>>();
const EARLY_TTL_MS = 10_000;

/** Start a GET now; the first ``getEarly`` of the same path and query within 10 s gets its answer. */
export function prefetch(path: string, query?: Query): void {
  const url = buildUrl(path, query);
  if (early.has(url)) return;
  const answer = apiFetch(path, { query }).then((res) => res.json() as Promise<unknown>);
  answer.catch(() => undefined); // nobody may take it; whoever does asks again on an error
  early.set(url, answer);
  setTimeout(() => {
    if (early.get(url) === answer) early.delete(url);
  }, EARLY_TTL_MS);
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
  const run = /^\/runs\/([^/]+)\/?$/.exec(pathname);
  if (run) {
    prefetch(`/runs/${encodeURIComponent(decodeURIComponent(run[1]))}`);
    return;
  }
  if (pathname === "/compare") {
    const ids = (sp.get("runs") ?? "").split(",").filter(Boolean).slice(0, 50);
    const project = sp.get("project");
    if (project && ids.length) prefetch("/runs", compareQuery(project, ids));
    else ids.forEach((id) => prefetch(`/runs/${encodeURIComponent(id)}`));
  }
}
