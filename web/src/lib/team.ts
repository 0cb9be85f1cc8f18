/** Team activity computed from a project's runs: runs and compute time per user per ISO week. */
import type { Run } from "./types";

/** Monday 00:00 UTC of the week holding ``epoch`` (seconds). */
export function weekStart(epoch: number): number {
  const d = new Date(epoch * 1000);
  const day = (d.getUTCDay() + 6) % 7;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day) / 1000;
}

export interface WeekRow {
  week: number;
  byUser: Record<string, { runs: number; seconds: number; failed: number }>;
}

export function weeklyActivity(runs: Run[]): { weeks: WeekRow[]; users: string[] } {
  const weeks = new Map<number, WeekRow>();
  const users = new Set<string>();
  for (const r of runs) {
    const w = weekStart(r.start_time);
    const user = r.user ?? "(unknown)";
    users.add(user);
    let row = weeks.get(w);
    if (!row) {
      row = { week: w, byUser: {} };
      weeks.set(w, row);
    }
    const cell = (row.byUser[user] ??= { runs: 0, seconds: 0, failed: 0 });
    cell.runs++;
    cell.seconds += r.duration && Number.isFinite(r.duration) ? r.duration : 0;
    if (r.status === "failed" || r.status === "crashed") cell.failed++;
  }
  return { weeks: [...weeks.values()].sort((a, b) => b.week - a.week), users: [...users].sort() };
}
