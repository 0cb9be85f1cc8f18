/**
 * Metric history requests, one definition for the charts and for main.tsx's early requests (prefetch.ts):
 * a chart of one run asks ``/runs/{id}/metrics/history``, an overlay of several runs one
 * ``/metrics/history?run=…&run=…`` (instead of one request per run).
 *
 * The first request of a chart does not wait for the chart to be laid out: it asks for as many points as
 * a chart card is wide in this window (the grid of styles.css: a 188 px menu, 20 px padding each side,
 * cards of at least 340 px with 12 px gaps), rounded up to 128, so it can leave with the page's first
 * requests and main.tsx can ask for it before the page's code has arrived. The chart then draws its
 * min/max band at its own width.
 */
import type { Query } from "./api";
import type { History } from "./types";

const MENU = 188;
const PADDING = 40;
const SCROLLBAR = 16;
const CARD_MIN = 340;
const GAP = 12;

/** Points to ask for a chart card of the metric grid in a window ``windowWidth`` px wide. */
export function chartPoints(windowWidth: number): number {
  const w = Number.isFinite(windowWidth) && windowWidth > 0 ? windowWidth : 1280;
  const main = Math.max(CARD_MIN, w - MENU - PADDING - SCROLLBAR);
  const cols = Math.max(1, Math.floor((main + GAP) / (CARD_MIN + GAP)));
  const card = (main - GAP * (cols - 1)) / cols;
  return Math.min(4096, Math.ceil(card / 128) * 128);
}

/** The points of the first request of any chart on this page. */
export function firstChartPoints(): number {
  return chartPoints(typeof window === "undefined" ? 1280 : window.innerWidth);
}

export interface HistoryRequest {
  path: string;
  query: Query;
  /** The histories out of the answer, one per run (null: that run has no such metric). */
  pick: (answer: unknown) => (History | null)[];
}

/** The one request for ``key`` of ``runIds`` (all of one chart), optionally within a step range. */
export function historyRequest(runIds: string[], key: string, maxPoints: number, range?: [number, number] | null): HistoryRequest {
  const bounds = {
    max_points: Math.max(16, Math.round(maxPoints)),
    min_step: range ? Math.floor(range[0]) : undefined,
    max_step: range ? Math.ceil(range[1]) : undefined,
  };
  if (runIds.length === 1) {
    return {
      path: `/runs/${encodeURIComponent(runIds[0])}/metrics/history`,
      query: { key, ...bounds },
      pick: (answer) => [answer as History],
    };
  }
  return {
    path: "/metrics/history",
    query: { run: runIds, key, ...bounds },
    pick: (answer) => {
      const byRun = new Map((answer as { histories: History[] }).histories.map((h) => [h.run_id, h]));
      return runIds.map((id) => byRun.get(id) ?? null);
    },
  };
}
