/** A run: overview, metric charts, system metrics, code, datasets, artifacts, media, logs, model versions. */
import { useEffect, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { apiText } from "../lib/api";
import { useApi } from "../lib/useApi";
import type { Artifact, DatasetLink, ModelVersion, Run } from "../lib/types";
import { fmtBytes, fmtDuration, fmtNum, fmtTime } from "../lib/format";
import { Badge, ErrorBox, Fetched, KV, Loading, Note, Tabs, ValueTable } from "../components/ui";
import { ChartControls, useChartOptions } from "../components/ChartControls";
import { MetricChart } from "../components/MetricChart";
import { DiffView } from "../components/Diff";
import { ArtifactBrowser, artifactUrl } from "../components/Artifacts";
import { MediaTab } from "../components/media/MediaTab";

const TABS: [string, string][] = [
  ["overview", "Overview"],
  ["charts", "Charts"],
  ["system", "System"],
  ["code", "Code"],
  ["env", "Environment"],
  ["datasets", "Datasets"],
  ["artifacts", "Artifacts"],
  ["media", "Media"],
  ["logs", "Logs"],
  ["models", "Models"],
];

export default function RunPage() {
  const { runId = "" } = useParams();
  const state = useApi<Run>(`/runs/${encodeURIComponent(runId)}`);
  return (
    <Fetched state={state} what={`Run ${runId}`}>
      {(run) => <RunView run={run} />}
    </Fetched>
  );
}

function RunView({ run }: { run: Run }) {
  const [sp] = useSearchParams();
  const tab = sp.get("tab") ?? "overview";
  const arts = useApi<Artifact[]>(`/runs/${run.id}/artifacts`);
  return (
    <>
      <div className="crumbs">
        <Link to="/projects">Projects</Link> / <Link to={`/projects/${encodeURIComponent(run.project)}/runs`}>{run.project}</Link> / runs
      </div>
      <div className="page-head">
        <h1 data-testid="run-name">{run.name}</h1>
        <Badge kind={run.status}>{run.status}</Badge>
        <span className="sub mono">{run.id}</span>
      </div>
      <Tabs tabs={TABS} />
      {tab === "overview" ? <Overview run={run} /> : null}
      {tab === "charts" ? <Charts run={run} system={false} /> : null}
      {tab === "system" ? <Charts run={run} system /> : null}
      {tab === "code" ? <Code run={run} artifacts={arts.data} /> : null}
      {tab === "env" ? <Environment run={run} /> : null}
      {tab === "datasets" ? <Datasets run={run} /> : null}
      {tab === "artifacts" ? (
        <Fetched state={arts} what="artifacts">
          {(list) => <ArtifactsTab run={run} artifacts={list} />}
        </Fetched>
      ) : null}
      {tab === "media" ? <MediaTab runId={run.id} /> : null}
      {tab === "logs" ? <Logs run={run} artifacts={arts.data} /> : null}
      {tab === "models" ? <Models run={run} /> : null}
    </>
  );
}

function Overview({ run }: { run: Run }) {
  const ctx = run.context ?? {};
  const git = ctx.git;
  const cmd = ctx.command;
  const metricRows = Object.values(run.metrics).filter((m) => !m.key.startsWith("sys/"));
  return (
    <div className="grid2">
      <div>
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Overview</h2>
          <KV
            rows={[
              ["status", <Badge kind={run.status}>{run.status}</Badge>],
              ["user", run.user ?? "—"],
              ["started", fmtTime(run.start_time)],
              ["ended", fmtTime(run.end_time)],
              ["duration", fmtDuration(run.duration)],
              ["host", ctx.environment?.hostname ?? "—"],
              ["command", cmd?.argv ? <code>{[cmd.executable?.split("/").pop() ?? "python", ...cmd.argv].join(" ")}</code> : "—"],
              ["working dir", cmd?.cwd ? <code>{cmd.cwd}</code> : "—"],
              ["commit", git?.commit ? <code title={git.commit}>{git.commit.slice(0, 12)}</code> : "—"],
              ["branch", git?.branch ?? "—"],
              ["dirty", git ? (git.dirty ? <Badge kind="bad">uncommitted changes</Badge> : "clean") : "—"],
              ["notes", run.notes ?? "—"],
            ]}
          />
          {run.error ? (
            <div className="error-box">
              <b>{run.error.type ?? "error"}</b>: {run.error.message ?? JSON.stringify(run.error)}
              {run.error.traceback ? <pre className="code">{run.error.traceback}</pre> : null}
            </div>
          ) : null}
        </div>
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Tags</h2>
          <ValueTable values={run.tags} empty="No tags." />
        </div>
      </div>
      <div>
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Params</h2>
          <ValueTable values={run.params} empty="No params." />
        </div>
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Summary</h2>
          <ValueTable values={run.summary} empty="No summary values." />
        </div>
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Metrics</h2>
          <table className="t">
            <thead>
              <tr>
                <th>key</th>
                <th className="num">last</th>
                <th className="num">min</th>
                <th className="num">max</th>
                <th className="num">points</th>
              </tr>
            </thead>
            <tbody>
              {metricRows.map((m) => (
                <tr key={m.key}>
                  <td className="mono">{m.key}</td>
                  <td className="num">{fmtNum(m.last)}</td>
                  <td className="num">{fmtNum(m.min)}</td>
                  <td className="num">{fmtNum(m.max)}</td>
                  <td className="num">{m.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}

function Charts({ run, system }: { run: Run; system: boolean }) {
  const opts = useChartOptions();
  const [q, setQ] = useState("");
  const keys = Object.keys(run.metrics)
    .filter((k) => k.startsWith("sys/") === system)
    .filter((k) => k.toLowerCase().includes(q.toLowerCase()))
    .sort();
  const runs = useMemo(() => [{ id: run.id, name: run.name }], [run.id, run.name]);
  return (
    <>
      <ChartControls extra={<input placeholder="filter metrics" value={q} onChange={(e) => setQ(e.target.value)} />} />
      {keys.length === 0 ? (
        <Note>{system ? "No system metrics (sys/…) were recorded for this run." : "No metrics match."}</Note>
      ) : (
        <div className="grid3">
          {keys.map((k) => (
            <MetricChart key={k} metric={k} runs={runs} {...opts} />
          ))}
        </div>
      )}
    </>
  );
}

function useArtifactText(runId: string, path: string | null | undefined, present: boolean | undefined) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setText(null);
    setError(null);
    if (!path || !present) return;
    apiText(artifactUrl(runId, path)).then(setText, setError);
  }, [runId, path, present]);
  return { text, error };
}

function Code({ run, artifacts }: { run: Run; artifacts: Artifact[] | undefined }) {
  const git = run.context?.git;
  const codeCtx = run.context?.code as { entry_script?: string; artifact?: string } | undefined;
  const patchPath = git?.patch_artifact ?? "code/diff.patch";
  const has = (p: string | undefined) => (artifacts ? !!p && artifacts.some((a) => a.path === p) : undefined);
  const diff = useArtifactText(run.id, patchPath, has(patchPath));
  const script = useArtifactText(run.id, codeCtx?.artifact, has(codeCtx?.artifact));
  if (!artifacts) return <Loading what="code" />;
  return (
    <>
      <div className="panel">
        <KV
          rows={[
            ["repository", git?.root ? <code>{git.root}</code> : "—"],
            ["remote", git?.remote ?? "—"],
            ["commit", git?.commit ? <code>{git.commit}</code> : "—"],
            ["branch", git?.branch ?? "—"],
            ["dirty", git ? (git.dirty ? "yes: the uncommitted diff is below" : "no") : "—"],
            ["entry script", codeCtx?.entry_script ? <code>{codeCtx.entry_script}</code> : "—"],
          ]}
        />
        {git?.note ? <div className="muted small">{String(git.note)}</div> : null}
      </div>
      <h2>Uncommitted changes</h2>
      {has(patchPath) === false ? (
        <Note>No diff was stored ({git ? (git.dirty ? "the run did not store its patch" : "the tree was clean") : "no git information"}).</Note>
      ) : diff.error ? (
        <ErrorBox error={diff.error} />
      ) : diff.text === null ? (
        <Loading what="diff" />
      ) : (
        <DiffView patch={diff.text} />
      )}
      <h2>Entry script</h2>
      {has(codeCtx?.artifact) === false ? (
        <Note>The entry script was not stored.</Note>
      ) : script.error ? (
        <ErrorBox error={script.error} />
      ) : script.text === null ? (
        <Loading what="script" />
      ) : (
        <pre className="code" data-testid="entry-script">{script.text}</pre>
      )}
    </>
  );
}

function Environment({ run }: { run: Run }) {
  const env = run.context?.environment;
  const [q, setQ] = useState("");
  if (!env) return <Note>No environment was captured for this run.</Note>;
  const pkgs = Object.entries(env.packages ?? {}).filter(([k]) => k.toLowerCase().includes(q.toLowerCase()));
  return (
    <div className="grid2">
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Machine</h2>
        <KV
          rows={[
            ["host", env.hostname ?? "—"],
            ["user", env.user ?? "—"],
            ["python", `${env.python?.implementation ?? ""} ${env.python?.version ?? ""}`],
            ["executable", <code>{env.python?.executable ?? "—"}</code>],
            ["os", env.os?.platform ?? env.os?.system ?? "—"],
            ["distribution", env.os?.distribution ?? "—"],
            ["cpu", env.cpu ? `${String(env.cpu.model ?? "")} × ${String(env.cpu.logical_count ?? env.cpu.count ?? "?")}` : "—"],
            ["memory", fmtBytes(env.memory_total_bytes ?? null)],
            ["gpus", env.gpus && env.gpus.length ? <pre className="code">{JSON.stringify(env.gpus, null, 1)}</pre> : "none"],
          ]}
        />
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Packages ({Object.keys(env.packages ?? {}).length})</h2>
        <input placeholder="search packages" value={q} onChange={(e) => setQ(e.target.value)} style={{ marginBottom: 6 }} />
        <div style={{ maxHeight: 520, overflow: "auto" }}>
          <table className="t">
            <tbody>
              {pkgs.map(([k, v]) => (
                <tr key={k}>
                  <td className="mono">{k}</td>
                  <td className="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}

function Datasets({ run }: { run: Run }) {
  const state = useApi<DatasetLink[]>(`/runs/${run.id}/datasets`);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <Fetched state={state} what="datasets">
      {(links) =>
        links.length === 0 ? (
          <Note>This run recorded no datasets.</Note>
        ) : (
          <table className="t">
            <thead>
              <tr>
                <th>role</th>
                <th>name</th>
                <th>version</th>
                <th>kind</th>
                <th className="num">rows</th>
                <th className="num">size</th>
                <th>columns</th>
                <th>digest</th>
                <th>source</th>
              </tr>
            </thead>
            <tbody>
              {links.flatMap((l, i) => {
                const d = l.dataset;
                const rows = [
                  <tr key={`${l.role}-${d.id}`}>
                    <td><Badge>{l.role}</Badge></td>
                    <td>{d.name}</td>
                    <td>v{d.version}</td>
                    <td>{d.kind}</td>
                    <td className="num">{d.num_rows?.toLocaleString() ?? "—"}</td>
                    <td className="num">{fmtBytes(d.num_bytes)}</td>
                    <td>
                      {d.schema.length ? (
                        <a href="#" onClick={(e) => { e.preventDefault(); setOpen(open === i ? null : i); }}>
                          {d.schema.length} columns {open === i ? "▾" : "▸"}
                        </a>
                      ) : "—"}
                    </td>
                    <td className="mono" title={d.digest}>{d.digest.slice(0, 12)}</td>
                    <td className="mono">{d.source ?? "—"}</td>
                  </tr>,
                ];
                if (open === i)
                  rows.push(
                    <tr key={`${l.role}-${d.id}-schema`}>
                      <td colSpan={9}>
                        <table className="t small">
                          <thead>
                            <tr><th>column</th><th>type</th><th className="num">missing</th><th className="num">min</th><th className="num">mean</th><th className="num">max</th></tr>
                          </thead>
                          <tbody>
                            {d.schema.map((c) => {
                              const sum = (d.summary[c.name] ?? {}) as Record<string, unknown>;
                              return (
                                <tr key={c.name}>
                                  <td className="mono">{c.name}</td>
                                  <td className="mono">{c.type}</td>
                                  <td className="num">{fmtNum(sum.missing)}</td>
                                  <td className="num">{fmtNum(sum.min)}</td>
                                  <td className="num">{fmtNum(sum.mean)}</td>
                                  <td className="num">{fmtNum(sum.max)}</td>
                                </tr>
                              );
                            })}
                          </tbody>
                        </table>
                      </td>
                    </tr>,
                  );
                return rows;
              })}
            </tbody>
          </table>
        )
      }
    </Fetched>
  );
}

function ArtifactsTab({ run, artifacts }: { run: Run; artifacts: Artifact[] }) {
  const [sp, setSp] = useSearchParams();
  return (
    <ArtifactBrowser
      runId={run.id}
      artifacts={artifacts}
      selected={sp.get("path")}
      onSelect={(p) => {
        const next = new URLSearchParams(sp);
        next.set("path", p);
        setSp(next, { replace: true });
      }}
    />
  );
}

function Logs({ run, artifacts }: { run: Run; artifacts: Artifact[] | undefined }) {
  const [sp, setSp] = useSearchParams();
  const q = sp.get("q") ?? "";
  const present = artifacts ? artifacts.some((a) => a.path === "logs/output.log") : undefined;
  const log = useArtifactText(run.id, "logs/output.log", present);
  const lines = useMemo(() => (log.text ?? "").split("\n"), [log.text]);
  if (!artifacts) return <Loading what="logs" />;
  if (!present) return <Note>No console output was captured (<code>logs/output.log</code> is absent).</Note>;
  if (log.error) return <ErrorBox error={log.error} />;
  if (log.text === null) return <Loading what="log" />;
  const ql = q.toLowerCase();
  const shown = q ? lines.map((l, i) => [i, l] as const).filter(([, l]) => l.toLowerCase().includes(ql)) : lines.map((l, i) => [i, l] as const);
  return (
    <>
      <div className="toolbar">
        <input
          placeholder="search the log"
          value={q}
          onChange={(e) => {
            const next = new URLSearchParams(sp);
            if (e.target.value) next.set("q", e.target.value);
            else next.delete("q");
            setSp(next, { replace: true });
          }}
        />
        <span className="muted small">
          {q ? `${shown.length} of ${lines.length} lines match` : `${lines.length} lines`}
        </span>
      </div>
      <pre className="code" style={{ maxHeight: "70vh" }} data-testid="log">
        {shown.slice(0, 20000).map(([i, l]) => (
          <div key={i}>
            <span className="muted" style={{ userSelect: "none", display: "inline-block", width: 52 }}>{i + 1}</span>
            {q ? highlight(l, q) : l}
          </div>
        ))}
      </pre>
    </>
  );
}

function highlight(line: string, q: string): React.ReactNode {
  const parts: React.ReactNode[] = [];
  const low = line.toLowerCase();
  const ql = q.toLowerCase();
  let i = 0;
  for (;;) {
    const j = low.indexOf(ql, i);
    if (j < 0) break;
    parts.push(line.slice(i, j), <mark key={j}>{line.slice(j, j + q.length)}</mark>);
    i = j + q.length;
  }
  parts.push(line.slice(i));
  return parts;
}

/** Versions registered from this run, of any model: one request (GET /model-versions?run=). */
function Models({ run }: { run: Run }) {
  const state = useApi<{ versions: ModelVersion[]; total: number }>("/model-versions", { run: run.id, limit: 1000 });
  const versions = state.data?.versions;
  const error = state.error;
  if (error) return <ErrorBox error={error} />;
  if (!versions) return <Loading what="model versions" />;
  return (
    <>
      {versions.length === 0 ? (
        <Note>No model version was registered from this run.</Note>
      ) : (
        <table className="t">
          <thead>
            <tr>
              <th>version</th>
              <th>stage</th>
              <th>aliases</th>
              <th>flavor</th>
              <th>created</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.ref} data-testid="run-model-version">
                <td>
                  <Link to={`/registry/${encodeURIComponent(v.model)}/versions/${v.version}`}>{v.ref}</Link>
                </td>
                <td>{v.stage ? <Badge kind={v.stage}>{v.stage}</Badge> : "—"}</td>
                <td>{v.aliases.join(", ") || "—"}</td>
                <td>{v.flavor}</td>
                <td>{fmtTime(v.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
