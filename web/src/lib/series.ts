/** Metric series helpers: smoothing and the min/max envelope of a server-downsampled history. */

/** Exponential moving average with debiasing (TensorBoard's), weight in [0, 1). NaN/null pass through. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  const out: (number | null)[] = [];
  let last = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out.push(last / (1 - Math.pow(weight, n)));
  }
  return out;
}

export interface Envelope {
  x: number[];
  mid: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
}

/**
 * The server keeps each bucket's min and max point; regroup the returned points into ``buckets`` equal
 * x-ranges and return per bucket the min, the max and the mean, so the chart draws a line inside a band.
 * With no more points than buckets every point is its own bucket (lo = hi = value).
 */
export function envelope(xs: number[], ys: (number | null)[], buckets: number): Envelope {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { x: [], mid: [], lo: [], hi: [] };
  if (n <= buckets || buckets < 1) {
    const y = ys.slice(0, n);
    return { x: xs.slice(0, n), mid: y, lo: y.slice(), hi: y.slice() };
  }
  const x0 = xs[0];
  const x1 = xs[n - 1];
  const width = (x1 - x0) / buckets || 1;
  const out: Envelope = { x: [], mid: [], lo: [], hi: [] };
  let b = -1;
  let lo = Infinity, hi = -Infinity, sum = 0, cnt = 0, xsum = 0, xcnt = 0;
  const flush = () => {
    if (xcnt === 0) return;
    out.x.push(xsum / xcnt);
    out.lo.push(cnt ? lo : null);
    out.hi.push(cnt ? hi : null);
    out.mid.push(cnt ? sum / cnt : null);
  };
  for (let i = 0; i < n; i++) {
    const bi = Math.min(buckets - 1, Math.floor((xs[i] - x0) / width));
    if (bi !== b) {
      flush();
      b = bi;
      lo = Infinity; hi = -Infinity; sum = 0; cnt = 0; xsum = 0; xcnt = 0;
    }
    xsum += xs[i];
    xcnt++;
    const y = ys[i];
    if (y !== null && Number.isFinite(y)) {
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
      sum += y;
      cnt++;
    }
  }
  flush();
  return out;
}

/** Align several (x, y) series on the union of their x values (uPlot wants one x array). */
export function alignSeries(series: { x: number[]; y: (number | null)[] }[]): [number[], ...(number | null)[][]] {
  const xsSet = new Set<number>();
  series.forEach((s) => s.x.forEach((x) => xsSet.add(x)));
  const xs = [...xsSet].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => {
      col[index.get(x)!] = s.y[i];
    });
    return col;
  });
  return [xs, ...ys];
}
