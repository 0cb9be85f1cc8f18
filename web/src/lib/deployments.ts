/**
 * Deployments as /api/v1/deployments answers them, the evidence per variant, and the pure helpers of the
 * deployment pages: a spec as readable lines (with the versions its references resolved to), and a line
 * diff between two versions of a spec.
 */

export type FallbackStep =
  | { model: string }
  | { rule: "constant"; value: unknown }
  | { rule: "threshold"; feature: string; threshold: number; above: unknown; below: unknown };

export interface Spec {
  primary: string;
  canary?: { ref: string; percent: number };
  shadow?: (string | { ref: string; monitor?: string | null })[];
  fallback?: FallbackStep[];
  guards?: {
    input?: { on_invalid: string; schema?: { columns: Record<string, unknown>; allow_extra?: boolean }; defaults?: Record<string, unknown> };
    output?: ({ clip: { min?: number; max?: number } } | { when: string; then: unknown })[];
  };
  timeout_ms?: number;
  monitor?: string;
}

export interface DeploymentVersion {
  deployment: string;
  version: number;
  spec: Spec;
  action: string;
  user: string | null;
  time: number;
  comment: string;
  details: { resolved?: Record<string, string>; to_version?: number; rolled_back_from?: number; promoted_from?: string; [k: string]: unknown };
  client: string | null;
  user_agent: string | null;
}

export interface Deployment {
  name: string;
  project: string;
  created_at: number;
  created_by: string | null;
  version: number;
  current: DeploymentVersion;
}

export interface VariantEvidence {
  variant: string; // primary | canary | shadow[0] …
  model: string; // churn:3
  requests: number;
  rows: number;
  errors: number;
  dropped?: number; // shadow copies its queue could not take
  error_rate: number | null;
  fallback_rate: number | null;
  guard_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null } | null;
  agreement: { kind: "classes" | "mae"; value: number | null; compared: number } | null;
  performance: { metric: string; value: number | null; labelled: number } | null;
}

export interface Evidence {
  deployment: string;
  version: number;
  since: number | null;
  until: number | null;
  variants: VariantEvidence[];
}

/** A reference's registry link: the version it resolved to when the spec was written, else its own name. */
export interface RefView {
  ref: string;
  resolved: string | null; // "churn:3"
  href: string | null; // /registry/churn/versions/3
}

export function refView(ref: string, resolved?: Record<string, string>): RefView {
  const found = resolved?.[ref] ?? (/^[^@:]+:\d+$/.test(ref) ? ref : null);
  const m = found ? /^(.+):(\d+)$/.exec(found) : null;
  return {
    ref,
    resolved: found,
    href: m ? `/registry/${encodeURIComponent(m[1])}/versions/${m[2]}` : null,
  };
}

export function shadowRef(s: string | { ref: string; monitor?: string | null }): { ref: string; monitor: string | null } {
  return typeof s === "string" ? { ref: s, monitor: null } : { ref: s.ref, monitor: s.monitor ?? null };
}

function literal(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** One fallback step as a sentence (model steps are drawn as links by the page). */
export function stepText(step: FallbackStep): string {
  if ("model" in step) return `model ${step.model}`;
  if (step.rule === "constant") return `constant ${literal(step.value)}`;
  return `${step.feature} ≥ ${step.threshold} → ${literal(step.above)}, else ${literal(step.below)}`;
}

export function inputGuardText(g: NonNullable<NonNullable<Spec["guards"]>["input"]>): string {
  const source = g.schema ? `its own schema (${Object.keys(g.schema.columns).length} columns)` : "the monitor's validation schema";
  const verb = g.on_invalid === "reject" ? "reject (400) rows" : g.on_invalid === "impute" ? "impute defaults in rows" : "send to the fallback rows";
  const defaults = g.defaults && Object.keys(g.defaults).length ? `; defaults ${Object.entries(g.defaults).map(([k, v]) => `${k}=${literal(v)}`).join(", ")}` : "";
  return `${verb} that break ${source}${defaults}`;
}

export function outputRuleText(r: NonNullable<NonNullable<Spec["guards"]>["output"]>[number]): string {
  if ("clip" in r) return `clip to [${r.clip.min ?? "−∞"}, ${r.clip.max ?? "∞"}]`;
  return `when ${r.when} → ${literal(r.then)}`;
}

/** The models a spec names with their role, in the order the page lists them. */
export function specModels(spec: Spec): { role: string; ref: string }[] {
  const out = [{ role: "primary", ref: spec.primary }];
  if (spec.canary) out.push({ role: `canary ${spec.canary.percent}%`, ref: spec.canary.ref });
  (spec.shadow ?? []).forEach((s, i) => out.push({ role: `shadow[${i}]`, ref: shadowRef(s).ref }));
  (spec.fallback ?? []).forEach((s, i) => {
    if ("model" in s) out.push({ role: `fallback[${i}]`, ref: s.model });
  });
  return out;
}

/** A value as indented YAML-like lines (keys sorted, scalars as JSON, no trailing commas), so two versions
 * line up line by line and a change touches only its own lines. */
export function specText(value: unknown, indent = ""): string[] {
  const scalar = (v: unknown) => JSON.stringify(v) ?? "null";
  const isBox = (v: unknown) => v !== null && typeof v === "object" && Object.keys(v as object).length > 0;
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      if (!isBox(item)) {
        out.push(`${indent}- ${scalar(item)}`);
        continue;
      }
      const inner = specText(item, indent + "  ");
      out.push(`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1));
    }
    return out;
  }
  if (isBox(value)) {
    const obj = value as Record<string, unknown>;
    return Object.keys(obj)
      .sort()
      .flatMap((k) => (isBox(obj[k]) ? [`${indent}${k}:`, ...specText(obj[k], indent + "  ")] : [`${indent}${k}: ${scalar(obj[k])}`]));
  }
  return [`${indent}${scalar(value)}`];
}

/** A version as the lines the diff compares: its spec, then the versions its references resolved to. */
export function versionText(v: DeploymentVersion): string[] {
  const lines = specText(v.spec);
  const resolved = v.details.resolved ?? {};
  const refs = Object.keys(resolved).sort();
  if (refs.length) {
    lines.push("", "resolved to:");
    for (const r of refs) lines.push(`  ${r} → ${resolved[r]}`);
  }
  return lines;
}

export interface LineChange {
  kind: "ctx" | "add" | "del";
  text: string;
  oldNo: number | null;
  newNo: number | null;
}

/** A line diff (longest common subsequence; specs are a few dozen lines) from ``a`` to ``b``. */
export function lineDiff(a: string[], b: string[]): LineChange[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: LineChange[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: "ctx", text: a[i], oldNo: i + 1, newNo: j + 1 });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push({ kind: "add", text: b[j], oldNo: null, newNo: j + 1 });
      j++;
    } else {
      out.push({ kind: "del", text: a[i], oldNo: i + 1, newNo: null });
      i++;
    }
  }
  return out;
}

/** What a version did, in a few words, for the history table. */
export function versionWhat(v: DeploymentVersion): string {
  if (v.action === "rolled_back") return `back to v${v.details.to_version ?? "?"}`;
  if (v.details.promoted_from) return `from ${v.details.promoted_from}`;
  const parts = [v.spec.primary];
  if (v.spec.canary) parts.push(`canary ${v.spec.canary.percent}%`);
  if (v.spec.shadow?.length) parts.push(`${v.spec.shadow.length} shadow`);
  if (v.spec.fallback?.length) parts.push(`${v.spec.fallback.length} fallback`);
  if (v.spec.timeout_ms !== undefined) parts.push(`${v.spec.timeout_ms} ms`);
  return parts.join(", ");
}

/** A share 0..1 as a percentage; null as a dash. */
export function pct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return `${(v * 100).toFixed(digits)}%`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;
}
