/** The runs table's page request, one definition for the page and for main.tsx's early request. */
import type { Query } from "./api";

/** The first page is what fills the screen (~30 rows) with room to scroll; later pages are larger. */
export const FIRST_PAGE = 100;
export const PAGE = 200;

export function runsPageQuery(project: string, filter: string, sort: string | null, offset: number): Query {
  return { project, filter: filter || undefined, sort: sort ?? undefined, offset, limit: offset === 0 ? FIRST_PAGE : PAGE };
}

/** The runs a comparison shows, in one search of their project (``id in (…)``) instead of one request each. */
export function compareQuery(project: string, ids: string[]): Query {
  return { project, filter: `id in (${ids.map((id) => JSON.stringify(id)).join(", ")})`, limit: ids.length };
}
