/** The runs list comes without context: the commit column fetches visible runs' details, cached, a few at a time. */
import { useEffect, useState } from "react";
import { apiGet } from "./api";
import type { Run } from "./types";

const cache = new Map<string, string | null>();
const inflight = new Set<string>();

export function useCommits(ids: string[]): Map<string, string | null> {
  const [, setTick] = useState(0);
  const key = ids.join(",");
  useEffect(() => {
    const missing = ids.filter((id) => !cache.has(id) && !inflight.has(id));
    if (missing.length === 0) return;
    let cancelled = false;
    const timer = setTimeout(async () => {
      const queue = missing.slice(0, 60);
      queue.forEach((id) => inflight.add(id));
      const worker = async () => {
        while (queue.length && !cancelled) {
          const id = queue.shift()!;
          try {
            const run = await apiGet<Run>(`/runs/${id}`);
            cache.set(id, run.context?.git?.commit ?? null);
          } catch {
            cache.set(id, null);
          } finally {
            inflight.delete(id);
          }
        }
        queue.forEach((id) => inflight.delete(id));
        if (!cancelled) setTick((t) => t + 1);
      };
      await Promise.all([worker(), worker(), worker()]);
    }, 250); // wait for scrolling to settle
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  return cache;
}
