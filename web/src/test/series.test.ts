import { alignSeries, envelope, smooth } from "../lib/series";

describe("downsampled series envelope", () => {
  it("passes a short series through unchanged", () => {
    const e = envelope([0, 1, 2], [3, 1, 2], 10);
    expect(e).toEqual({ x: [0, 1, 2], mid: [3, 1, 2], lo: [3, 1, 2], hi: [3, 1, 2] });
  });

  it("groups the server's min/max points into buckets with lo <= mid <= hi", () => {
    // what the server sends for 1000 steps at max_points 22: first, last and each bucket's min and max
    const xs: number[] = [];
    const ys: number[] = [];
    for (let b = 0; b < 10; b++) {
      xs.push(b * 100 + 10, b * 100 + 60);
      ys.push(b, b + 5);
    }
    const e = envelope(xs, ys, 10);
    expect(e.x).toHaveLength(10);
    e.x.forEach((_, i) => {
      expect(e.lo[i]).toBe(i);
      expect(e.hi[i]).toBe(i + 5);
      expect(e.mid[i]).toBe(i + 2.5);
    });
  });

  it("keeps a bucket whose values are all NaN as a gap", () => {
    const e = envelope([0, 1, 2, 3, 4, 5], [1, 2, NaN, NaN, 5, 6], 3);
    expect(e.lo).toEqual([1, null, 5]);
    expect(e.hi).toEqual([2, null, 6]);
  });

  it("never makes more buckets than asked", () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map((x) => Math.sin(x / 10));
    const e = envelope(xs, ys, 50);
    expect(e.x.length).toBeLessThanOrEqual(50);
    expect(Math.min(...(e.lo as number[]))).toBeCloseTo(-1, 2);
    expect(Math.max(...(e.hi as number[]))).toBeCloseTo(1, 2);
  });
});

describe("smoothing and alignment", () => {
  it("debiased EMA starts at the first value and passes NaN through", () => {
    const s = smooth([1, 1, NaN, 1], 0.9);
    expect(s[0]).toBeCloseTo(1);
    expect(s[1]).toBeCloseTo(1);
    expect(Number.isNaN(s[2] as number)).toBe(true);
    expect(s[3]).toBeCloseTo(1);
    expect(smooth([1, 2], 0)).toEqual([1, 2]);
  });

  it("aligns runs on the union of their x values", () => {
    expect(alignSeries([{ x: [0, 2], y: [1, 3] }, { x: [1, 2], y: [5, 6] }])).toEqual([[0, 1, 2], [1, null, 3], [null, 5, 6]]);
  });
});
