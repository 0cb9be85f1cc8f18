/** Side-by-side rows for comparing runs: which keys differ between them. */
import type { Run } from "./types";

export interface CompareRow {
  key: string;
  values: unknown[];
  differs: boolean;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** One row per key seen in any run; a row differs when any two runs' values (missing included) differ. */
export function compareRows(maps: Record<string, unknown>[]): CompareRow[] {
  const keys = new Set<string>();
  maps.forEach((m) => Object.keys(m).forEach((k) => keys.add(k)));
  return [...keys].sort().map((key) => {
    const values = maps.map((m) => (key in m ? m[key] : undefined));
    const differs = values.some((v) => !same(v, values[0]));
    return { key, values, differs };
  });
}

export function metricLasts(run: Run): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, m] of Object.entries(run.metrics)) out[k] = m.last;
  return out;
}
