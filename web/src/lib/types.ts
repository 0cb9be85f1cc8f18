/** Shapes of /api/v1 responses the UI reads (docs/API.md). Floats may be "NaN"/"Infinity" strings. */

export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

export interface Me {
  authenticated: boolean;
  name: string | null;
  role: string;
  key_id: string | null;
  projects: { project: string; role: string }[];
}

export interface Project {
  id: number;
  name: string;
  created_at: number;
  run_count: number;
  last_run_at: number | null;
}

export interface MetricSummary {
  key: string;
  last: JsonFloat;
  last_step: number;
  min: JsonFloat | null;
  max: JsonFloat | null;
  count: number;
}

export type RunStatus = "running" | "finished" | "failed" | "crashed";

export interface Run {
  id: string;
  project: string;
  name: string;
  status: RunStatus;
  user: string | null;
  start_time: number;
  end_time: number | null;
  heartbeat_at: number | null;
  duration: number | null;
  notes: string | null;
  error: Record<string, string> | null;
  params: Record<string, unknown>;
  tags: Record<string, string>;
  summary: Record<string, unknown>;
  metrics: Record<string, MetricSummary>;
  context: RunContext | null;
  /** Commit, branch and dirty flag of context.git, in search results too (null: git not captured). */
  git?: RunGit | null;
}

export interface RunGit {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
}

export interface RunContext {
  command?: { argv?: string[]; executable?: string; cwd?: string; entry_script?: string | null; module?: string | null };
  environment?: {
    python?: { version?: string; implementation?: string; executable?: string };
    packages?: Record<string, string>;
    os?: Record<string, string>;
    hostname?: string;
    user?: string;
    cpu?: Record<string, unknown>;
    memory_total_bytes?: number;
    gpus?: unknown[];
    [k: string]: unknown;
  };
  git?: {
    root?: string;
    commit?: string;
    branch?: string | null;
    remote?: string | null;
    dirty?: boolean;
    patch_artifact?: string;
    note?: string;
    [k: string]: unknown;
  };
  code?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface RunPage {
  runs: Run[];
  total: number;
  offset: number;
  limit: number;
}

export interface History {
  run_id: string;
  key: string;
  steps: number[];
  values: JsonFloat[];
  wall_times: number[];
  total_points: number;
  downsampled: boolean;
}

export interface Artifact {
  run_id: string;
  path: string;
  digest: string;
  size: number;
  created_at: number;
  content_type?: string; // what the name suggests; older servers leave it out
}

export interface DatasetVersion {
  id: number;
  project: string;
  name: string;
  version: number;
  digest: string;
  source: string | null;
  kind: string;
  num_rows: number | null;
  num_bytes: number | null;
  schema: { name: string; type: string; nullable?: boolean }[];
  summary: Record<string, unknown>;
  created_at: number;
}

export interface DatasetLink {
  run_id: string;
  role: string;
  dataset: DatasetVersion;
}

export interface Policy {
  protected_stages: string[];
  protected_aliases: string[];
  required_approvals: number;
  approver_roles: string[];
  gates: string[];
  require_datasets: boolean;
  require_signature: boolean;
  archive_previous: boolean;
}

export interface Model {
  name: string;
  project: string;
  description: string | null;
  owner: string | null;
  tags: Record<string, string>;
  policy: Policy;
  created_at: number;
  updated_at: number;
  latest_version: number | null;
  aliases: Record<string, number>;
  card: Record<string, unknown>;
}

export interface ModelVersion {
  model: string;
  version: number;
  ref: string;
  run_id: string;
  source: string;
  digest: string;
  flavor: string;
  format: string;
  executes_code: boolean;
  signature: Record<string, unknown> | null;
  files: { path: string; digest: string; size: number }[];
  size: number;
  stage: string | null;
  aliases: string[];
  description: string | null;
  tags: Record<string, string>;
  created_by: string | null;
  created_at: number;
}

export interface Gate {
  gate: string;
  passed: boolean;
  detail: string;
}

export interface Decision {
  user: string;
  approve: boolean;
  comment: string | null;
  time: number;
}

export interface ApprovalRequest {
  id: number;
  model: string;
  version: number;
  kind: string;
  target: string;
  status: string;
  requested_by: string | null;
  comment: string | null;
  created_at: number;
  required_approvals: number;
  approvals: number;
  gates: Gate[];
  decisions: Decision[];
  decided_at: number | null;
}

export interface AuditEvent {
  id?: number;
  time: number;
  user: string | null;
  action: string;
  model?: string;
  version: number | null;
  details: Record<string, unknown> | null;
  client: string | null;
  user_agent: string | null;
}

export interface Monitor {
  id: number;
  name: string;
  project: string;
  model: string;
  version: number;
  run_id: string;
  alias: string | null;
  features: string[];
  prediction: string;
  task: string;
  granularity: string;
  segments: string[];
  [k: string]: unknown;
}

export interface Alert {
  id: number;
  rule_id?: number;
  title?: string;
  monitor: string;
  project: string;
  model?: string;
  version?: number;
  run_id?: string;
  metric: string;
  feature: string | null;
  segment: string | null;
  state: "open" | "acknowledged" | "resolved";
  value: JsonFloat;
  comparator: string;
  threshold: number;
  window_start: number;
  opened_at: number;
  updated_at?: number;
  acknowledged_by?: string | null;
  resolved_at?: number | null;
}

export interface ColumnScore {
  test?: string;
  statistic: JsonFloat | null;
  p_value?: JsonFloat | null;
  threshold?: number;
  drifted: boolean;
  scores?: Record<string, JsonFloat>;
}

export interface ReportWindow {
  start: number;
  end: number;
  rows: number;
  share_drifted: number;
  drifted: string[];
  dataset_drifted: boolean;
  missing_drifted: string[];
  scores: Record<string, ColumnScore>;
  missing_rate: Record<string, number>;
  violations: Record<string, number>;
  performance: Record<string, number>;
  /** performance estimated before labels: each metric's value and band, and `rows` */
  estimated?: Record<string, EstimatedValue | number>;
}

export interface EstimatedValue {
  value: number;
  lower: number | null;
  upper: number | null;
}

export interface Estimation {
  calibrated: boolean;
  method: string;
  metrics: string[];
  band: string;
  note?: string;
  kind?: string;
  reference_rows?: number;
  error?: Record<string, { mae: number; windows: number; within_band: number }>;
}

export interface MonitorReport {
  monitor: Monitor & { versions?: { version: number; run_id: string; since: number }[] };
  period: { start: number; end: number; windows: number };
  reference: { rows: number; source: string };
  current_rows: number;
  overall: {
    columns: (ColumnScore & { column: string; kind: string; missing_rate_ref?: number; missing_rate_cur?: number })[];
    drifted_columns: string[];
    share_drifted: number;
    dataset_drifted: boolean;
    drift_share: number;
    rows_ref: number;
    rows_cur: number;
  };
  windows: ReportWindow[];
  /** The counts the cards show, from the same per-window figures as the charts and the alert rules. */
  summary?: {
    windows: number;
    drift: { dataset_drifted: boolean; windows_drifted: number; first_drifted: number | null; latest_drifted: boolean; drift_share: number };
    tested: number;
    drifted_features: string[];
    missing_changed: string[];
    open_alerts: number;
  };
  validation: { rules: string[]; totals: Record<string, number> };
  performance: { task: string; training: Record<string, number>; overall: Record<string, number> } | null;
  estimation?: Estimation;
  unmatched_labels: number;
  alerts: Alert[];
  distributions: Record<string, { kind: string; edges?: number[]; categories?: string[]; reference: number[]; current: number[] }>;
  segments: Record<
    string,
    { rows: number; drifted_columns: string[]; share_drifted: number; windows: { start: number; rows: number; drifted: string[]; share_drifted: number }[] }
  >;
}

export interface User {
  name: string;
  role: string;
  disabled: boolean;
  created_at: number;
  [k: string]: unknown;
}

export interface ApiKey {
  key_id: string;
  name: string | null;
  user: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at?: number | null;
  key?: string;
  [k: string]: unknown;
}
