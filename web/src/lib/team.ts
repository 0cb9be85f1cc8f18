/** Team activity: runs and compute time per user per ISO week, as GET /projects/{p}/activity counts them. */

export interface UserWeek {
  runs: number;
  seconds: number;
  failed: number;
}

/** What GET /api/v1/projects/{p}/activity answers: newest week first. */
export interface Activity {
  since: number | null;
  weeks: { week_start: number; users: Record<string, UserWeek> }[];
}

export interface WeekRow {
  week: number;
  byUser: Record<string, UserWeek>;
}

/** Rows for the table (newest week first), the users in any week (sorted) and the totals. */
export function weeklyActivity(activity: Activity): { weeks: WeekRow[]; users: string[]; runs: number; seconds: number } {
  const users = new Set<string>();
  let runs = 0;
  let seconds = 0;
  const weeks = activity.weeks.map((w) => {
    for (const [user, cell] of Object.entries(w.users)) {
      users.add(user);
      runs += cell.runs;
      seconds += cell.seconds;
    }
    return { week: w.week_start, byUser: w.users };
  });
  weeks.sort((a, b) => b.week - a.week);
  return { weeks, users: [...users].sort(), runs, seconds };
}

/** The periods the page offers (``since`` of the activity request). */
export const PERIODS: [string, string][] = [
  ["30d", "30 days"],
  ["90d", "90 days"],
  ["365d", "a year"],
  ["all", "all time"],
];
