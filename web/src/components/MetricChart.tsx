/** One metric's chart: history downsampled by the server to about the chart's width, min/max band, smoothing. */
import { useEffect, useMemo, useRef, useState } from "react";
import type uPlot from "uplot";
import { num } from "../lib/api";
import { getEarly } from "../lib/prefetch";
import { firstChartPoints, historyRequest } from "../lib/history";
import type { History } from "../lib/types";
import { alignSeries, envelope, smooth } from "../lib/series";
import { seriesColor } from "../lib/colors";
import { Chart, type ChartSeries } from "./Chart";

export type XMode = "step" | "wall" | "rel";

export function useWidth<T extends HTMLElement>(): [React.RefObject<T>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(0);
  useEffect(() => {
    if (ref.current) setW(ref.current.clientWidth);
  }, []);
  return [ref, w];
}

export function xValues(h: History, mode: XMode): number[] {
  if (mode === "step") return h.steps;
  if (mode === "wall") return h.wall_times;
  const t0 = h.wall_times[0] ?? 0;
  return h.wall_times.map((t) => t - t0);
}

export const X_LABEL: Record<XMode, string> = { step: "step", wall: "time", rel: "seconds since start" };

/** Several runs' histories of one metric on one chart (one run: with its min/max band when downsampled). */
export function MetricChart({
  metric,
  runs,
  xMode,
  logY,
  smoothing,
  height = 200,
}: {
  metric: string;
  runs: { id: string; name: string }[];
  xMode: XMode;
  logY: boolean;
  smoothing: number;
  height?: number;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const [hist, setHist] = useState<(History | null)[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  // A zoom by step asks the server again for that range, so detail appears instead of stretched buckets.
  const [range, setRange] = useState<[number, number] | null>(null);
  const ids = runs.map((r) => r.id).join(",");
  useEffect(() => setRange(null), [xMode]);
  // The first request leaves at once with as many points as the window is wide (lib/history.ts), taking
  // the answer main.tsx asked for early if there is one; a zoom asks again at the chart's own width.
  const zoom = xMode === "step" ? range : null;
  useEffect(() => {
    if (zoom && !width) return;
    let live = true;
    const req = historyRequest(runs.map((r) => r.id), metric, zoom ? width : firstChartPoints(), zoom);
    getEarly<unknown>(req.path, req.query).then(
      (answer) => live && setHist(req.pick(answer)),
      (e) => live && setErr(String(e)),
    );
    return () => {
      live = false;
    };
  }, [ids, metric, zoom?.[0], zoom?.[1], zoom ? width : 0]); // eslint-disable-line react-hooks/exhaustive-deps

  const built = useMemo(() => {
    if (!hist) return null;
    const single = runs.length === 1 && hist[0];
    const series: ChartSeries[] = [];
    const bands: [number, number, string][] = [];
    if (single) {
      const h = hist[0]!;
      const xs = xValues(h, xMode);
      const ys = h.values.map(num);
      const env = h.downsampled ? envelope(xs, ys, Math.max(1, Math.floor((Math.round(width) - 2) / 2))) : null;
      const x = env ? env.x : xs;
      const mid = env ? env.mid : ys;
      const cols: (number | null)[][] = [];
      if (env) {
        cols.push(env.lo, env.hi);
        series.push({ label: "min", color: "rgba(47,95,208,0.25)", width: 0.5 }, { label: "max", color: "rgba(47,95,208,0.25)", width: 0.5 });
        bands.push([2, 1, "rgba(47,95,208,0.12)"]);
      }
      if (smoothing > 0) {
        cols.push(mid, smooth(mid, smoothing));
        series.push({ label: "raw", color: "rgba(47,95,208,0.3)", width: 1 }, { label: metric, color: seriesColor(0), width: 1.8 });
      } else {
        cols.push(mid);
        series.push({ label: metric, color: seriesColor(0), width: 1.6, points: x.length < 40 });
      }
      return { data: [x, ...cols] as uPlot.AlignedData, series, bands, downsampled: h.downsampled, total: h.total_points };
    }
    const parts = hist.map((h) => {
      if (!h) return { x: [] as number[], y: [] as (number | null)[] };
      const y = h.values.map(num);
      return { x: xValues(h, xMode), y: smoothing > 0 ? smooth(y, smoothing) : y };
    });
    runs.forEach((r, i) => series.push({ label: r.name, color: seriesColor(i), width: 1.5, points: parts[i].x.length < 30 }));
    return {
      data: alignSeries(parts) as uPlot.AlignedData,
      series,
      bands,
      downsampled: hist.some((h) => h?.downsampled),
      total: hist.reduce((s, h) => s + (h?.total_points ?? 0), 0),
    };
  }, [hist, runs, xMode, smoothing, width, metric]);

  return (
    <div className="chart-card" ref={ref} data-testid={`chart-${metric}`}>
      <div className="title">
        <span className="mono">{metric}</span>
        {built ? (
          <span className="muted">
            {built.total.toLocaleString()} points{built.downsampled ? " · downsampled, band = min/max" : ""}
          </span>
        ) : null}
        {range ? (
          <button
            style={{ marginLeft: "auto", padding: "0 6px", fontSize: 11, whiteSpace: "nowrap" }}
            title={`showing steps ${Math.floor(range[0])}–${Math.ceil(range[1])}, fetched again at full detail`}
            onClick={() => setRange(null)}
          >
            reset zoom
          </button>
        ) : null}
      </div>
      {err ? <div className="error-box">{err}</div> : null}
      {built ? (
        <Chart
          data={built.data}
          series={built.series}
          bands={built.bands}
          xLabel={X_LABEL[xMode]}
          time={xMode === "wall"}
          logY={logY}
          height={height}
          onZoom={xMode === "step" ? (lo, hi) => setRange([Math.max(0, lo), hi]) : undefined}
        />
      ) : (
        <div style={{ height }} className="loading">
          loading…
        </div>
      )}
    </div>
  );
}

