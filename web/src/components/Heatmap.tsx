/** Feature × window drift heatmap: each cell is the drift statistic over its threshold. */
import { heatColor } from "../lib/colors";
import { fmtDate, fmtNum } from "../lib/format";
import { num } from "../lib/api";
import type { ReportWindow } from "../lib/types";

export function DriftHeatmap({
  features,
  windows,
  onPick,
}: {
  features: string[];
  windows: ReportWindow[];
  onPick?: (feature: string) => void;
}) {
  return (
    <div className="heatmap" data-testid="heatmap">
      <table>
        <thead>
          <tr>
            <th />
            {windows.map((w) => (
              <th key={w.start} className="day">{fmtDate(w.start).slice(5)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {features.map((f) => (
            <tr key={f}>
              <th className="feat" onClick={() => onPick?.(f)} style={{ cursor: onPick ? "pointer" : undefined }}>
                {f}
              </th>
              {windows.map((w) => {
                const s = w.scores?.[f];
                const stat = s ? num(s.statistic) : null;
                const thr = s?.threshold ?? 0.1;
                const bg = heatColor(stat, thr);
                return (
                  <td
                    key={w.start}
                    className="cell"
                    data-drifted={s?.drifted ? "1" : "0"}
                    style={{ background: bg, outline: s?.drifted ? "1.5px solid #8f1d1d" : undefined, outlineOffset: -1.5 }}
                    title={`${f} · ${fmtDate(w.start)}\n${s?.test ?? "?"} ${fmtNum(stat)} (threshold ${fmtNum(thr)})${s?.drifted ? " — drifted" : ""}\nrows ${w.rows}`}
                  />
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="legend-bar">
        statistic ÷ threshold:
        {[0, 0.5, 1, 1.5, 2].map((t) => (
          <span key={t} style={{ display: "inline-flex", alignItems: "center", gap: 3 }}>
            <span className="sw" style={{ background: heatColor(t, 1) }} /> {t}
          </span>
        ))}
        <span style={{ display: "inline-flex", alignItems: "center", gap: 3 }}>
          <span className="sw" style={{ background: heatColor(null, 1) }} /> no data
        </span>
        <span>· outlined: drifted</span>
      </div>
    </div>
  );
}
