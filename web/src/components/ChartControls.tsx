/** Chart options kept in the URL: x axis, log scale, smoothing. */
import { useSearchParams } from "react-router-dom";
import type { XMode } from "./MetricChart";

export function useChartOptions(): { xMode: XMode; logY: boolean; smoothing: number } {
  const [sp] = useSearchParams();
  const x = sp.get("x");
  return {
    xMode: x === "wall" || x === "rel" ? x : "step",
    logY: sp.get("log") === "1",
    smoothing: Math.min(0.99, Math.max(0, Number(sp.get("smooth") ?? 0) || 0)),
  };
}

export function ChartControls({ extra }: { extra?: React.ReactNode }) {
  const [sp, setSp] = useSearchParams();
  const { xMode, logY, smoothing } = useChartOptions();
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(sp);
    if (v === null) next.delete(k);
    else next.set(k, v);
    setSp(next, { replace: true });
  };
  return (
    <div className="toolbar">
      <label>
        x axis{" "}
        <select value={xMode} onChange={(e) => set("x", e.target.value === "step" ? null : e.target.value)}>
          <option value="step">step</option>
          <option value="wall">wall time</option>
          <option value="rel">relative time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={logY} onChange={(e) => set("log", e.target.checked ? "1" : null)} /> log scale
      </label>
      <label>
        smoothing{" "}
        <input
          type="range"
          min={0}
          max={0.95}
          step={0.05}
          value={smoothing}
          onChange={(e) => set("smooth", Number(e.target.value) > 0 ? e.target.value : null)}
        />{" "}
        <span className="mono">{smoothing.toFixed(2)}</span>
      </label>
      <span className="muted small">drag to zoom, double-click to reset</span>
      {extra}
    </div>
  );
}
