/** A uPlot chart that sizes itself to its box; drag to zoom, double-click to reset (uPlot's defaults). */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  label: string;
  color: string;
  /** a band drawn between two other series (indices into data, 1-based) */
  band?: [number, number];
  hidden?: boolean;
  width?: number;
  dash?: number[];
  points?: boolean;
}

export function Chart({
  data,
  series,
  xLabel,
  time,
  logY,
  height = 220,
  bands,
  yRange,
  testId,
  onZoom,
}: {
  data: uPlot.AlignedData;
  series: ChartSeries[];
  xLabel?: string;
  time?: boolean;
  logY?: boolean;
  height?: number;
  bands?: [number, number, string][];
  yRange?: [number, number];
  testId?: string;
  /** called with the x range the user dragged over (the chart zooms there too) */
  onZoom?: (min: number, max: number) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth);
    const opts: uPlot.Options = {
      width,
      height,
      scales: {
        x: { time: !!time },
        y: logY ? { distr: 3 } : yRange ? { range: yRange } : {},
      },
      axes: [
        { label: xLabel, labelSize: xLabel ? 18 : 0, size: time ? 48 : 36, font: "11px system-ui", labelFont: "11px system-ui", grid: { stroke: "#eef0f3" } },
        { size: 56, font: "11px system-ui", grid: { stroke: "#eef0f3" } },
      ],
      // Many runs: the page lists them with their colours, so the legend would only take room.
      legend: { show: series.length > 0 && series.length <= 4 },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      series: [
        { label: xLabel ?? (time ? "time" : "x") },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          dash: s.dash,
          show: !s.hidden,
          spanGaps: true,
          points: { show: s.points ?? false, size: 4 },
        })),
      ],
      bands: bands?.map(([a, b, fill]) => ({ series: [a, b], fill })),
      hooks: {
        // A marker for tests and benchmarks/ui_speed.py: how many times this chart has drawn its data.
        draw: [() => (el.dataset.drawn = String(Number(el.dataset.drawn ?? 0) + 1))],
        ...(onZoom
          ? {
              setSelect: [
                (u: uPlot) => {
                  if (u.select.width < 3) return;
                  const lo = u.posToVal(u.select.left, "x");
                  const hi = u.posToVal(u.select.left + u.select.width, "x");
                  onZoom(lo, hi);
                },
              ],
            }
          : {}),
      },
    };
    // A log scale cannot place zero or negative values: leave them out instead of breaking the axis.
    const shown = logY
      ? ([data[0], ...data.slice(1).map((col) => (col as (number | null)[]).map((v) => (v !== null && v > 0 ? v : null)))] as uPlot.AlignedData)
      : data;
    const u = new uPlot(opts, shown, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
      delete el.dataset.drawn;
    };
  }, [data, series, xLabel, time, logY, height, bands, yRange]); // eslint-disable-line react-hooks/exhaustive-deps
  return <div ref={box} data-testid={testId} style={{ width: "100%", minHeight: height }} />;
}
