/** Runs-table columns: a column id is the filter language's field (``params.lr``, ``min(metrics.loss)``). */
import type { Run } from "./types";
import { num } from "./api";

export type ColumnKind = "attr" | "params" | "metrics" | "tags" | "summary";
export type MetricAgg = "last" | "min" | "max";

export interface Column {
  id: string; // as written in the URL and in a sort: params.lr, metrics.val/acc, min(metrics.loss)
  kind: ColumnKind;
  key: string;
  agg?: MetricAgg;
  label: string;
  sortable: boolean;
}

export const BASE_COLUMNS: Column[] = [
  { id: "status", kind: "attr", key: "status", label: "Status", sortable: true },
  { id: "name", kind: "attr", key: "name", label: "Name", sortable: true },
  { id: "user", kind: "attr", key: "user", label: "User", sortable: true },
  { id: "start_time", kind: "attr", key: "start_time", label: "Start", sortable: true },
  { id: "duration", kind: "attr", key: "duration", label: "Duration", sortable: true },
  // Sorts by the filter language's git.commit (the runs list's git.commit); "git" in older links.
  { id: "git.commit", kind: "attr", key: "git", label: "Commit", sortable: true },
];

const PLAIN_KEY = /^[A-Za-z0-9_/\-.:@]+$/;

/** A key as the filter language wants it: bare when it can be, else in backquotes (`` doubled). */
export function quoteKey(key: string): string {
  return PLAIN_KEY.test(key) ? key : "`" + key.replace(/`/g, "``") + "`";
}

function unquoteKey(text: string): string {
  if (text.startsWith("`") && text.endsWith("`") && text.length >= 2) return text.slice(1, -1).replace(/``/g, "`");
  return text;
}

export function columnId(kind: ColumnKind, key: string, agg: MetricAgg = "last"): string {
  if (kind === "attr") return key;
  const field = `${kind}.${quoteKey(key)}`;
  return kind === "metrics" && agg !== "last" ? `${agg}(${field})` : field;
}

export function parseColumn(id: string): Column | null {
  const base = BASE_COLUMNS.find((c) => c.id === id || (id === "git" && c.key === "git"));
  if (base) return base;
  let agg: MetricAgg = "last";
  let body = id;
  const m = /^(min|max|last)\((.*)\)$/.exec(id);
  if (m) {
    agg = m[1] as MetricAgg;
    body = m[2];
  }
  const dot = body.indexOf(".");
  if (dot < 0) return null;
  const kind = body.slice(0, dot) as ColumnKind;
  if (!["params", "metrics", "tags", "summary"].includes(kind)) return null;
  if (m && kind !== "metrics") return null;
  const key = unquoteKey(body.slice(dot + 1));
  if (!key) return null;
  const label = kind === "metrics" ? (agg === "last" ? key : `${agg}(${key})`) : key;
  return { id: columnId(kind, key, agg), kind, key, agg: kind === "metrics" ? agg : undefined, label, sortable: true };
}

export function cellValue(run: Run, col: Column): unknown {
  switch (col.kind) {
    case "attr":
      if (col.key === "git") return run.git?.commit ?? run.context?.git?.commit ?? null;
      return (run as unknown as Record<string, unknown>)[col.key];
    case "params":
      return col.key in run.params ? run.params[col.key] : undefined;
    case "tags":
      return run.tags[col.key];
    case "summary":
      return run.summary[col.key];
    case "metrics": {
      const m = run.metrics[col.key];
      if (!m) return undefined;
      const v = col.agg === "min" ? m.min : col.agg === "max" ? m.max : m.last;
      return num(v);
    }
  }
}

/** Parse the ``sort`` URL value: ``-metrics.acc`` → {id: "metrics.acc", desc: true}. */
export function parseSort(s: string | null): { id: string; desc: boolean } | null {
  if (!s) return null;
  const t = s.trim();
  if (t.startsWith("-")) return { id: t.slice(1), desc: true };
  if (t.startsWith("+")) return { id: t.slice(1), desc: false };
  return { id: t, desc: false };
}

/** Next sort after clicking a header: ascending, descending, then none. */
export function nextSort(current: string | null, id: string): string | null {
  const cur = parseSort(current);
  if (!cur || cur.id !== id) return id === "start_time" || id === "duration" || id.startsWith("metrics") || id.includes("(") ? `-${id}` : id;
  const firstWasDesc = id === "start_time" || id === "duration" || id.startsWith("metrics") || id.includes("(");
  if (cur.desc === firstWasDesc) return cur.desc ? id : `-${id}`;
  return null;
}

export interface KeySets {
  params: string[];
  metrics: string[];
  tags: string[];
  summary: string[];
}

/** Every key seen in a page of runs, sorted, for the column chooser and the filter's completion. */
export function collectKeys(runs: Run[]): KeySets {
  const p = new Set<string>(), m = new Set<string>(), t = new Set<string>(), s = new Set<string>();
  for (const r of runs) {
    Object.keys(r.params).forEach((k) => p.add(k));
    Object.keys(r.metrics).forEach((k) => m.add(k));
    Object.keys(r.tags).forEach((k) => t.add(k));
    Object.keys(r.summary).forEach((k) => s.add(k));
  }
  const sorted = (x: Set<string>) => [...x].sort();
  return { params: sorted(p), metrics: sorted(m), tags: sorted(t), summary: sorted(s) };
}

/** Two key sets as one: each kind's keys once, sorted. */
export function mergeKeys(a: KeySets, b: KeySets): KeySets {
  const merge = (x: string[], y: string[]) => (y.every((k) => x.includes(k)) ? x : [...new Set([...x, ...y])].sort());
  return {
    params: merge(a.params, b.params),
    metrics: merge(a.metrics, b.metrics),
    tags: merge(a.tags, b.tags),
    summary: merge(a.summary, b.summary),
  };
}

/** Fields for the filter box's completion. */
export function filterFields(keys: KeySets): string[] {
  return [
    "status", "name", "user", "id", "start_time", "end_time", "duration", "git.commit", "git.branch",
    ...keys.params.map((k) => `params.${quoteKey(k)}`),
    ...keys.metrics.map((k) => `metrics.${quoteKey(k)}`),
    ...keys.metrics.map((k) => `min(metrics.${quoteKey(k)})`),
    ...keys.metrics.map((k) => `max(metrics.${quoteKey(k)})`),
    ...keys.tags.map((k) => `tags.${quoteKey(k)}`),
    ...keys.summary.map((k) => `summary.${quoteKey(k)}`),
  ];
}

/** The word being typed at the caret and where it starts, for completion. */
export function wordAt(text: string, caret: number): { start: number; word: string } {
  let i = caret;
  while (i > 0 && /[A-Za-z0-9_/\-.:@()`]/.test(text[i - 1])) i--;
  // A grouping parenthesis is not part of the key: "(params.l" completes "params.l".
  while (text[i] === "(" && i < caret) i++;
  return { start: i, word: text.slice(i, caret) };
}
