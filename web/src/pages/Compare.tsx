/** Compare 2–50 runs: params and summaries side by side, overlaid metrics, a scatter, parallel coordinates. */
import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ApiError, num } from "../lib/api";
import { chartKeys, getEarly } from "../lib/prefetch";
import type { Run, RunPage } from "../lib/types";
import { compareQuery } from "../lib/runsQuery";
import { compareRows, metricLasts, type CompareRow } from "../lib/compare";
import { seriesColor } from "../lib/colors";
import { fmtNum } from "../lib/format";
import { ErrorBox, Loading, Note, Tabs } from "../components/ui";
import { ChartControls, useChartOptions } from "../components/ChartControls";
import { MetricChart } from "../components/MetricChart";
import { ParallelCoords, Scatter } from "../components/Scatter";

export function CompareTable({ title, runs, rows, onlyDiff }: {
  title: string;
  runs: Run[];
  rows: CompareRow[];
  onlyDiff: boolean;
}) {
  const shown = onlyDiff ? rows.filter((r) => r.differs) : rows;
  return (
    <div className="panel" style={{ overflowX: "auto" }}>
      <h2 style={{ marginTop: 0 }}>
        {title} <span className="muted small">({rows.filter((r) => r.differs).length} of {rows.length} differ)</span>
      </h2>
      {shown.length === 0 ? (
        <div className="muted">{rows.length ? "All the same." : "None."}</div>
      ) : (
        <table className="t" data-testid={`compare-${title.toLowerCase()}`}>
          <thead>
            <tr>
              <th>key</th>
              {runs.map((r, i) => (
                <th key={r.id} style={{ color: seriesColor(i) }}>{r.name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={row.key} className={row.differs ? "differs" : ""} data-differs={row.differs}>
                <td className="mono">{row.key}</td>
                {row.values.map((v, i) => (
                  <td key={i} className="mono">{v === undefined ? <span className="muted">—</span> : fmtNum(v, 6)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The runs in the order of ``ids``: one search when the link names their project (the runs table's
 * links do), else, and for any id the search did not find (a prefix, a run of another project), one request
 * per run, which also reports a run that does not exist. */
export async function fetchRuns(project: string | null, ids: string[]): Promise<Run[]> {
  const found = new Map<string, Run>();
  if (project && ids.length) {
    const page = await getEarly<RunPage>("/runs", compareQuery(project, ids)).catch(() => null);
    page?.runs.forEach((r) => found.set(r.id, r));
  }
  return Promise.all(ids.map((id) => found.get(id) ?? getEarly<Run>(`/runs/${encodeURIComponent(id)}`)));
}

export default function ComparePage() {
  const [sp, setSp] = useSearchParams();
  // The same array while ?runs= stays the same: a change of tab or option must not fetch the runs again
  // (and remount every chart, which then asked for its histories twice).
  const runsParam = sp.get("runs") ?? "";
  const ids = useMemo(() => runsParam.split(",").filter(Boolean).slice(0, 50), [runsParam]);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const project = sp.get("project");
  useEffect(() => {
    setRuns(null);
    fetchRuns(project, ids).then(setRuns, setError);
  }, [project, ids]);
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(sp);
    if (v === null) next.delete(k);
    else next.set(k, v);
    setSp(next, { replace: true });
  };
  if (ids.length < 2) return <Note>Choose 2 to 50 runs in a runs table and press Compare.</Note>;
  if (error) return <ErrorBox error={error} />;
  if (!runs) return <Loading what={`${ids.length} runs`} />;
  const tab = sp.get("tab") ?? "table";
  const onlyDiff = sp.get("diff") === "1";
  return (
    <>
      <div className="crumbs">
        <Link to={`/projects/${encodeURIComponent(runs[0].project)}/runs`}>{runs[0].project}</Link> / compare
      </div>
      <div className="page-head">
        <h1>Compare {runs.length} runs</h1>
        <span className="sub">
          {runs.map((r, i) => (
            <span key={r.id} style={{ marginRight: 10 }}>
              <span style={{ color: seriesColor(i) }}>●</span> <Link to={`/runs/${r.id}`}>{r.name}</Link>
            </span>
          ))}
        </span>
      </div>
      <Tabs tabs={[["table", "Side by side"], ["charts", "Metrics"], ["scatter", "Scatter"], ["parallel", "Parallel coordinates"]]} />
      {tab === "table" ? (
        <>
          <label className="toolbar">
            <input type="checkbox" checked={onlyDiff} onChange={(e) => set("diff", e.target.checked ? "1" : null)} /> only differences
          </label>
          <CompareTable title="Params" runs={runs} rows={compareRows(runs.map((r) => r.params))} onlyDiff={onlyDiff} />
          <CompareTable title="Summary" runs={runs} rows={compareRows(runs.map((r) => r.summary))} onlyDiff={onlyDiff} />
          <CompareTable title="Metrics" runs={runs} rows={compareRows(runs.map(metricLasts))} onlyDiff={onlyDiff} />
          <CompareTable title="Tags" runs={runs} rows={compareRows(runs.map((r) => r.tags))} onlyDiff={onlyDiff} />
        </>
      ) : null}
      {tab === "charts" ? <CompareCharts runs={runs} /> : null}
      {tab === "scatter" ? <CompareScatter runs={runs} /> : null}
      {tab === "parallel" ? <CompareParallel runs={runs} /> : null}
    </>
  );
}

function metricKeys(runs: Run[]): string[] {
  return chartKeys(runs, false);
}

function CompareCharts({ runs }: { runs: Run[] }) {
  const opts = useChartOptions();
  const list = useMemo(() => runs.map((r) => ({ id: r.id, name: r.name })), [runs]);
  return (
    <>
      <ChartControls />
      <div className="grid3">
        {metricKeys(runs).map((k) => (
          <MetricChart key={k} metric={k} runs={list.filter((_, i) => k in runs[i].metrics)} {...opts} />
        ))}
      </div>
    </>
  );
}

function CompareScatter({ runs }: { runs: Run[] }) {
  const [sp, setSp] = useSearchParams();
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metrics = metricKeys(runs);
  const x = sp.get("sx") ?? params[0] ?? "";
  const y = sp.get("sy") ?? metrics.find((m) => /acc|loss/.test(m)) ?? metrics[0] ?? "";
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(sp);
    next.set(k, v);
    setSp(next, { replace: true });
  };
  return (
    <div className="panel">
      <div className="toolbar">
        <label>
          param{" "}
          <select value={x} onChange={(e) => set("sx", e.target.value)}>
            {params.map((p) => <option key={p}>{p}</option>)}
          </select>
        </label>
        <label>
          metric (last){" "}
          <select value={y} onChange={(e) => set("sy", e.target.value)}>
            {metrics.map((p) => <option key={p}>{p}</option>)}
          </select>
        </label>
      </div>
      <Scatter
        xLabel={x}
        yLabel={y}
        width={640}
        height={340}
        points={runs.map((r, i) => ({
          label: r.name,
          x: typeof r.params[x] === "number" || typeof r.params[x] === "string" ? (r.params[x] as number | string) : r.params[x] === undefined ? null : String(r.params[x]),
          y: r.metrics[y] ? num(r.metrics[y].last) : null,
          color: seriesColor(i),
        }))}
      />
    </div>
  );
}

function CompareParallel({ runs }: { runs: Run[] }) {
  const [sp, setSp] = useSearchParams();
  const params = compareRows(runs.map((r) => r.params)).filter((r) => r.differs).map((r) => `params.${r.key}`);
  const metrics = metricKeys(runs).map((k) => `metrics.${k}`);
  const all = [...params, ...metrics];
  const chosen = sp.has("axes") ? (sp.get("axes") ?? "").split("|").filter((a) => all.includes(a)) : [...params.slice(0, 5), ...metrics.slice(0, 3)];
  const toggle = (a: string) => {
    const next = new URLSearchParams(sp);
    next.set("axes", (chosen.includes(a) ? chosen.filter((c) => c !== a) : [...chosen, a]).join("|"));
    setSp(next, { replace: true });
  };
  const axes = chosen.map((a) => ({
    label: a.replace(/^params\.|^metrics\./, ""),
    values: runs.map((r) => {
      if (a.startsWith("params.")) {
        const v = r.params[a.slice(7)];
        return typeof v === "number" || typeof v === "string" ? v : v === undefined || v === null ? null : String(v);
      }
      const m = r.metrics[a.slice(8)];
      return m ? num(m.last) : null;
    }),
  }));
  return (
    <div className="panel">
      <div className="toolbar small">
        {all.map((a) => (
          <label key={a}>
            <input type="checkbox" checked={chosen.includes(a)} onChange={() => toggle(a)} /> <span className="mono">{a}</span>
          </label>
        ))}
      </div>
      <ParallelCoords axes={axes} runs={runs.map((r, i) => ({ name: r.name, color: seriesColor(i) }))} width={Math.max(600, axes.length * 150)} />
      <div className="muted small">Params that are the same in every run are left out. Hover a line for its run.</div>
    </div>
  );
}
