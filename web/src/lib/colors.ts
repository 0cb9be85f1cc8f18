/** Colour scales: a sequential scale for drift heatmaps and a palette for run series. */

export const PALETTE = [
  "#2f5fd0", "#d0542f", "#2a9d62", "#9b4fc9", "#c79a12", "#1b9aaa", "#d03f7a", "#5c6b7a",
  "#7aa52a", "#e07b00", "#4b3fc9", "#8c564b",
];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function lerp(a: number, b: number, t: number): number {
  return Math.round(a + (b - a) * t);
}

function hex(r: number, g: number, b: number): string {
  return "#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
}

const STOPS: [number, [number, number, number]][] = [
  [0, [247, 250, 252]],
  [0.5, [253, 219, 140]],
  [1, [196, 45, 45]],
];

/**
 * Heatmap colour of a drift statistic: value / threshold mapped to [0, 2] and clamped, so the threshold
 * itself sits in the middle (amber) and twice the threshold or more is full red. Missing is grey.
 */
export function heatColor(value: number | null | undefined, threshold: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "#e6e8eb";
  const t = Math.max(0, Math.min(1, threshold > 0 ? value / threshold / 2 : value));
  for (let i = 1; i < STOPS.length; i++) {
    const [p1, c1] = STOPS[i];
    const [p0, c0] = STOPS[i - 1];
    if (t <= p1) {
      const u = (t - p0) / (p1 - p0);
      return hex(lerp(c0[0], c1[0], u), lerp(c0[1], c1[1], u), lerp(c0[2], c1[2], u));
    }
  }
  const last = STOPS[STOPS.length - 1][1];
  return hex(last[0], last[1], last[2]);
}

/** Dark text on light cells, white on dark ones. */
export function textOn(bg: string): string {
  const r = parseInt(bg.slice(1, 3), 16), g = parseInt(bg.slice(3, 5), 16), b = parseInt(bg.slice(5, 7), 16);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#1d2330" : "#ffffff";
}
