/** A monitor's report: drift heatmap, rows and drift share, missing values, segments, violations,
 * performance over time, and its alerts with acknowledge / resolve. */
import { useMemo, useState } from "react";
import type uPlot from "uplot";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { ApiError, apiSend, num } from "../lib/api";
import { useApi } from "../lib/useApi";
import type { Alert, EstimatedValue, MonitorReport } from "../lib/types";
import { fmtNum, fmtTime } from "../lib/format";
import { seriesColor } from "../lib/colors";
import { actingUser, atLeast, projectRole, useMe } from "../lib/me";
import { Badge, ErrorBox, Fetched, Note, Tabs } from "../components/ui";
import { Chart } from "../components/Chart";
import { DriftHeatmap } from "../components/Heatmap";
import { Distribution } from "../components/Distribution";

export default function MonitorPage() {
  const { name = "" } = useParams();
  const [sp, setSp] = useSearchParams();
  const window = sp.get("window") ?? "1d";
  // detail=summary: of each window's column tests only what the heatmap draws (test, statistic, threshold,
  // verdict). 30 days of hourly windows over 25 columns: 2.5 MB instead of 7 MB; the first read of a period
  // computes its hourly windows' figures (~10 s for 720 windows), later reads take under a second.
  const periods = window === "1h" ? ["1d", "2d", "7d", "14d", "30d"] : ["1d", "7d", "14d", "30d", "90d"];
  const asked = sp.get("last") ?? (window === "1h" ? "2d" : "30d");
  const last = periods.includes(asked) ? asked : window === "1h" ? "2d" : "30d";
  const state = useApi<MonitorReport>(`/monitors/${encodeURIComponent(name)}/report`, {
    format: "json",
    last,
    window,
    detail: "summary",
  });
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(sp);
    next.set(k, v);
    setSp(next, { replace: true });
  };
  return (
    <>
      <div className="crumbs">
        <Link to="/monitoring">Monitoring</Link>
      </div>
      <div className="page-head">
        <h1>{name}</h1>
        <label>
          period{" "}
          <select value={last} onChange={(e) => set("last", e.target.value)}>
            {periods.map((v) => <option key={v}>{v}</option>)}
          </select>
        </label>
        <label>
          window{" "}
          <select
            value={window}
            onChange={(e) => {
              const next = new URLSearchParams(sp);
              next.set("window", e.target.value);
              next.delete("last");
              setSp(next, { replace: true });
            }}
          >
            <option value="1d">day</option>
            <option value="1h">hour</option>
          </select>
        </label>
      </div>
      <Fetched state={state} what={`Monitor ${name}`}>
        {(r) => <ReportView report={r} reload={state.reload} />}
      </Fetched>
    </>
  );
}

function ReportView({ report, reload }: { report: MonitorReport; reload: () => void }) {
  const [sp] = useSearchParams();
  const tab = sp.get("tab") ?? "drift";
  const m = report.monitor;
  const openAlerts = report.alerts.filter((a) => a.state !== "resolved").length;
  // The cards count from the report's summary: the per-window figures the heatmap and the alerts use.
  const summary = report.summary;
  const drifted = summary ? summary.drifted_features : report.overall.drifted_columns;
  return (
    <>
      <div className="panel">
        <span className="stat"><span className="v">{report.current_rows.toLocaleString()}</span><span className="k">rows</span></span>
        <span className="stat"><span className="v">{report.windows.length}</span><span className="k">windows</span></span>
        {summary ? (
          <>
            <span className="stat"><span className="v">{summary.drifted_features.length} / {summary.tested}</span><span className="k">columns drifted in a window</span></span>
            <span className="stat"><span className="v">{summary.drift.windows_drifted} / {summary.windows}</span><span className="k">windows with dataset drift (at {(summary.drift.drift_share * 100).toFixed(0)}%)</span></span>
            <span className="stat"><span className="v">{summary.missing_changed.length}</span><span className="k">missing-rate changes</span></span>
          </>
        ) : (
          <>
            <span className="stat"><span className="v">{report.overall.drifted_columns.length} / {report.overall.columns.length}</span><span className="k">columns drifted</span></span>
            <span className="stat"><span className="v">{(report.overall.share_drifted * 100).toFixed(1)}%</span><span className="k">drift share (dataset at {(report.overall.drift_share * 100).toFixed(0)}%)</span></span>
          </>
        )}
        <span className="stat"><span className="v">{openAlerts}</span><span className="k">open alerts</span></span>
        <div className="small muted" style={{ marginTop: 6 }}>
          Watches <Link to={`/registry/${encodeURIComponent(m.model)}/versions/${m.version}`}>{m.model}:{m.version}</Link>
          {m.alias ? ` (@${m.alias})` : ""} from run <Link to={`/runs/${m.run_id}`} className="mono">{m.run_id.slice(0, 8)}</Link> · reference{" "}
          {report.reference.rows} rows ({report.reference.source}) · {fmtTime(report.period.start)} → {fmtTime(report.period.end)}
          {drifted.length ? <> · drifted: <b>{drifted.join(", ")}</b></> : null}
        </div>
      </div>
      <Tabs
        tabs={[
          ["drift", "Drift"],
          ["traffic", "Rows & drift share"],
          ["missing", "Missing values"],
          ["segments", "Segments"],
          ["validation", "Validation"],
          ["performance", "Performance"],
          ["alerts", `Alerts (${report.alerts.length})`],
        ]}
      />
      {tab === "drift" ? <DriftTab report={report} /> : null}
      {tab === "traffic" ? <TrafficTab report={report} /> : null}
      {tab === "missing" ? <MissingTab report={report} /> : null}
      {tab === "segments" ? <SegmentsTab report={report} /> : null}
      {tab === "validation" ? <ValidationTab report={report} /> : null}
      {tab === "performance" ? <PerformanceTab report={report} /> : null}
      {tab === "alerts" ? <AlertsTab report={report} reload={reload} /> : null}
    </>
  );
}

function DriftTab({ report }: { report: MonitorReport }) {
  const [sp, setSp] = useSearchParams();
  const cols = report.overall.columns;
  const chosen = sp.get("feature") ?? report.overall.drifted_columns[0] ?? cols[0]?.column;
  const pick = (f: string) => {
    const next = new URLSearchParams(sp);
    next.set("feature", f);
    setSp(next, { replace: true });
  };
  const features = [...cols].sort((a, b) => (num(b.statistic) ?? 0) / (b.threshold || 1) - (num(a.statistic) ?? 0) / (a.threshold || 1)).map((c) => c.column);
  return (
    <>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Drift by feature and window <span className="muted small">(most drifted first)</span></h2>
        {report.windows.length ? <DriftHeatmap features={features} windows={report.windows} onPick={pick} /> : <Note>No windows in this period.</Note>}
      </div>
      {chosen && report.distributions?.[chosen] ? (
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>
            Distribution of <span className="mono">{chosen}</span> <span className="muted small">(choose a column below)</span>
          </h2>
          <Distribution dist={report.distributions[chosen]} />
        </div>
      ) : null}
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Over the whole period</h2>
        <table className="t">
          <thead>
            <tr><th>column</th><th>test</th><th className="num">statistic</th><th className="num">threshold</th><th>drifted</th><th className="num">missing ref → cur</th></tr>
          </thead>
          <tbody>
            {cols.map((c) => (
              <tr key={c.column} className={c.drifted ? "differs" : ""}>
                <td>
                  <a href="#" onClick={(e) => { e.preventDefault(); pick(c.column); }} style={{ fontWeight: c.column === chosen ? 600 : undefined }}>
                    {c.column}
                  </a>
                </td>
                <td>{c.test}</td>
                <td className="num">{fmtNum(c.statistic)}</td>
                <td className="num">{fmtNum(c.threshold)}</td>
                <td>{c.drifted ? <Badge kind="bad">drifted</Badge> : ""}</td>
                <td className="num">{fmtNum(c.missing_rate_ref, 3)} → {fmtNum(c.missing_rate_cur, 3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function timeChart(report: MonitorReport, series: { label: string; values: (number | null)[] }[], height = 200, yRange?: [number, number]) {
  const xs = report.windows.map((w) => w.start);
  return (
    <Chart
      data={[xs, ...series.map((s) => s.values)] as uPlot.AlignedData}
      series={series.map((s, i) => ({ label: s.label, color: seriesColor(i), points: true }))}
      time
      height={height}
      yRange={yRange}
    />
  );
}

function TrafficTab({ report }: { report: MonitorReport }) {
  return (
    <div className="grid2">
      <div className="chart-card">
        <div className="title">rows per window</div>
        {timeChart(report, [{ label: "rows", values: report.windows.map((w) => w.rows) }])}
      </div>
      <div className="chart-card">
        <div className="title">share of drifted columns <span className="muted">(dataset drift at {(report.overall.drift_share * 100).toFixed(0)}%)</span></div>
        {timeChart(report, [
          { label: "drift share", values: report.windows.map((w) => w.share_drifted) },
          { label: "dataset threshold", values: report.windows.map(() => report.overall.drift_share) },
        ], 200, [0, 1])}
      </div>
    </div>
  );
}

function MissingTab({ report }: { report: MonitorReport }) {
  const feats = useMemo(() => {
    const s = new Set<string>();
    report.windows.forEach((w) => Object.entries(w.missing_rate ?? {}).forEach(([k, v]) => v > 0 && s.add(k)));
    return [...s].sort();
  }, [report]);
  if (feats.length === 0) return <Note>No missing values in any window of this period.</Note>;
  return (
    <div className="chart-card">
      <div className="title">missing rate per window (features with any missing value)</div>
      {timeChart(report, feats.map((f) => ({ label: f, values: report.windows.map((w) => w.missing_rate?.[f] ?? null) })), 260)}
      <div className="small muted">Flagged as missing drift: {[...new Set(report.windows.flatMap((w) => w.missing_drifted))].join(", ") || "none"}</div>
    </div>
  );
}

function SegmentsTab({ report }: { report: MonitorReport }) {
  const segs = Object.entries(report.segments ?? {});
  if (segs.length === 0) return <Note>This monitor has no segments.</Note>;
  return (
    <>
      <table className="t">
        <thead>
          <tr><th>segment</th><th className="num">rows</th><th className="num">drift share</th><th>drifted columns</th></tr>
        </thead>
        <tbody>
          {segs.map(([k, s]) => (
            <tr key={k}>
              <td className="mono">{k}</td>
              <td className="num">{s.rows.toLocaleString()}</td>
              <td className="num">{(s.share_drifted * 100).toFixed(1)}%</td>
              <td>{s.drifted_columns.join(", ") || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="chart-card" style={{ marginTop: 12 }}>
        <div className="title">drift share per segment and window</div>
        {timeChart(report, segs.map(([k, s]) => {
          const by = new Map(s.windows.map((w) => [w.start, w.share_drifted]));
          return { label: k, values: report.windows.map((w) => by.get(w.start) ?? null) };
        }), 220, [0, 1])}
      </div>
    </>
  );
}

function ValidationTab({ report }: { report: MonitorReport }) {
  const totals = Object.entries(report.validation.totals).sort((a, b) => b[1] - a[1]);
  return (
    <div className="grid2">
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Violations in the period</h2>
        {totals.length === 0 ? <div className="muted">None.</div> : (
          <table className="t">
            <tbody>
              {totals.map(([rule, n]) => (
                <tr key={rule}><td className="mono">{rule}</td><td className="num">{n.toLocaleString()}</td></tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="muted small">{report.validation.rules.length} rules checked.</div>
      </div>
      <div className="chart-card">
        <div className="title">violations per window</div>
        {totals.length ? timeChart(report, totals.slice(0, 8).map(([rule]) => ({ label: rule, values: report.windows.map((w) => w.violations?.[rule] ?? 0) }))) : <Note>Nothing to draw.</Note>}
      </div>
    </div>
  );
}

function PerformanceTab({ report }: { report: MonitorReport }) {
  const perf = report.performance;
  const keys = useMemo(() => {
    const s = new Set<string>();
    report.windows.forEach((w) => Object.keys(w.performance ?? {}).forEach((k) => k !== "labeled" && s.add(k)));
    return [...s].sort();
  }, [report]);
  if (!perf || keys.length === 0)
    return (
      <>
        <Note>No labels have arrived for this period, so there is no realized performance yet.</Note>
        <EstimatedPerformance report={report} />
      </>
    );
  return (
    <>
      <EstimatedPerformance report={report} />
      <div className="panel">
        <table className="t">
          <thead><tr><th>metric</th><th className="num">training</th><th className="num">production (period)</th></tr></thead>
          <tbody>
            {Object.keys(perf.overall).filter((k) => k !== "labeled").map((k) => (
              <tr key={k}><td>{k}</td><td className="num">{fmtNum(perf.training[k])}</td><td className="num">{fmtNum(perf.overall[k])}</td></tr>
            ))}
            <tr><td>labeled rows</td><td /><td className="num">{fmtNum(perf.overall.labeled)}</td></tr>
          </tbody>
        </table>
      </div>
      <div className="grid3">
        {keys.map((k) => (
          <div className="chart-card" key={k}>
            <div className="title">{k} {perf.training[k] !== undefined ? <span className="muted">training {fmtNum(perf.training[k])}</span> : null}</div>
            {timeChart(report, [
              { label: k, values: report.windows.map((w) => w.performance?.[k] ?? null) },
              ...(perf.training[k] !== undefined ? [{ label: "training", values: report.windows.map(() => perf.training[k]) }] : []),
            ], 180)}
          </div>
        ))}
      </div>
    </>
  );
}

/** Performance estimated before labels (CBPE; DLE for regression): per metric the estimate, its band, and
 * the realized value once labels arrived. */
function EstimatedPerformance({ report }: { report: MonitorReport }) {
  const est = report.estimation;
  if (!est) return null;
  if (!est.calibrated) return <Note>Estimated performance: {est.note ?? "not calibrated"}.</Note>;
  const pick = (w: MonitorReport["windows"][number], k: string): EstimatedValue | undefined => {
    const v = w.estimated?.[k];
    return typeof v === "object" ? v : undefined;
  };
  const xs = report.windows.map((w) => w.start);
  const metrics = est.metrics.filter((k) => report.windows.some((w) => pick(w, k)));
  if (!metrics.length) return <Note>Estimated performance: no predicted probabilities in this period.</Note>;
  return (
    <div className="panel" data-testid="estimated-performance">
      <div className="title">
        Estimated performance ({est.method}) <span className="muted">{est.band}</span>
      </div>
      <div className="grid3">
        {metrics.map((k, i) => {
          const err = est.error?.[k];
          return (
            <div className="chart-card" key={k}>
              <div className="title">
                {k} estimated{err ? <span className="muted"> · mean error {fmtNum(err.mae)} over {err.windows} labelled windows</span> : null}
              </div>
              <Chart
                data={[
                  xs,
                  report.windows.map((w) => pick(w, k)?.lower ?? null),
                  report.windows.map((w) => pick(w, k)?.upper ?? null),
                  report.windows.map((w) => pick(w, k)?.value ?? null),
                  report.windows.map((w) => w.performance?.[k] ?? null),
                ] as uPlot.AlignedData}
                series={[
                  { label: "lower", color: "rgba(47,95,208,0.25)", width: 0.5 },
                  { label: "upper", color: "rgba(47,95,208,0.25)", width: 0.5 },
                  { label: "estimated", color: seriesColor(i), width: 1.8, points: true },
                  { label: "realized", color: "#111827", width: 1.5, points: true },
                ]}
                bands={[[2, 1, "rgba(47,95,208,0.12)"]]}
                time
                height={180}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}

function AlertsTab({ report, reload }: { report: MonitorReport; reload: () => void }) {
  const me = useMe();
  const [error, setError] = useState<ApiError | null>(null);
  const canAct = atLeast(projectRole(me, report.monitor.project), "member");
  const act = async (a: Alert, what: "acknowledge" | "resolve") => {
    setError(null);
    try {
      const user = actingUser(me);
      await apiSend("POST", `/alerts/${a.id}/${what}`, user ? { user } : {});
      reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  if (report.alerts.length === 0) return <Note>No alerts in this period.</Note>;
  return (
    <>
      {error ? <ErrorBox error={error} /> : null}
      <table className="t" data-testid="alerts-table">
        <thead>
          <tr><th>#</th><th>alert</th><th>state</th><th className="num">value</th><th>window</th><th>model version</th><th>run</th><th /></tr>
        </thead>
        <tbody>
          {report.alerts.map((a) => (
            <tr key={a.id} data-alert={a.id}>
              <td>{a.id}</td>
              <td>{a.title ?? `${a.metric} ${a.comparator} ${a.threshold}`}{a.segment ? <span className="muted"> ({a.segment})</span> : null}</td>
              <td><Badge kind={a.state}>{a.state}</Badge>{a.acknowledged_by ? <span className="muted small"> by {a.acknowledged_by}</span> : null}</td>
              <td className="num">{fmtNum(a.value)} <span className="muted">{a.comparator} {fmtNum(a.threshold)}</span></td>
              <td>{fmtTime(a.window_start)}</td>
              <td>{a.model ? <Link to={`/registry/${encodeURIComponent(a.model)}/versions/${a.version}`}>{a.model}:{a.version}</Link> : "—"}</td>
              <td>{a.run_id ? <Link to={`/runs/${a.run_id}`} className="mono">{a.run_id.slice(0, 8)}</Link> : "—"}</td>
              <td style={{ whiteSpace: "nowrap" }}>
                {canAct && a.state === "open" ? <button onClick={() => void act(a, "acknowledge")}>Acknowledge</button> : null}{" "}
                {canAct && a.state !== "resolved" ? <button onClick={() => void act(a, "resolve")}>Resolve</button> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="muted small">The report lists the alerts not resolved and those resolved in the period.</div>
    </>
  );
}
