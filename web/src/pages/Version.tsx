/** A model version: lineage (datasets → run → version → stage/aliases), its card, files and signature. */
import { Link, useParams } from "react-router-dom";
import { useApi } from "../lib/useApi";
import type { ModelVersion } from "../lib/types";
import { fmtBytes, fmtNum, fmtTime } from "../lib/format";
import { Badge, Fetched, KV, ValueTable } from "../components/ui";
import { Lineage } from "../components/Lineage";

interface Card {
  model: string;
  version: number;
  project: string;
  stage: string | null;
  aliases: string[];
  owner: string | null;
  description: string | null;
  version_description: string | null;
  flavor: string;
  format: string;
  digest: string;
  signature: { inputs?: { fields: { name: string | null; dtype: string }[] }; outputs?: { fields: { name: string | null; dtype: string; shape?: number[] | null }[] } } | null;
  registered_by: string | null;
  registered_at: number;
  run: { id: string; name: string; user: string | null; status: string; commit: string | null; branch: string | null; dirty: boolean | null; params: Record<string, unknown> } | null;
  metrics: Record<string, unknown>;
  datasets: { role: string; name: string; version: number; digest: string; rows: number | null }[];
  [k: string]: unknown;
}

const KNOWN = new Set(["model", "version", "project", "stage", "aliases", "owner", "description", "version_description", "flavor", "format", "executes_code", "digest", "signature", "registered_by", "registered_at", "run", "metrics", "datasets"]);

export default function VersionPage() {
  const { model = "", version = "" } = useParams();
  const base = `/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`;
  const v = useApi<ModelVersion>(base);
  const card = useApi<Card>(`${base}/card`);
  return (
    <Fetched state={v} what={`Version ${model}:${version}`}>
      {(mv) => (
        <>
          <div className="crumbs">
            <Link to="/registry">Registry</Link> / <Link to={`/registry/${encodeURIComponent(model)}`}>{model}</Link>
          </div>
          <div className="page-head">
            <h1>{mv.ref}</h1>
            {mv.stage ? <Badge kind={mv.stage}>{mv.stage}</Badge> : null}
            {mv.aliases.map((a) => <Badge key={a}>{a}</Badge>)}
            <span className="sub">{mv.description}</span>
          </div>
          <Fetched state={card} what="model card">
            {(c) => (
              <>
                <div className="panel" style={{ overflowX: "auto" }}>
                  <h2 style={{ marginTop: 0 }}>Lineage</h2>
                  <Lineage
                    columns={[
                      {
                        title: "datasets",
                        nodes: c.datasets.length ? c.datasets.map((d) => ({ label: `${d.name} v${d.version}`, sub: `${d.role} · ${d.rows ?? "?"} rows` })) : [{ label: "no datasets recorded" }],
                      },
                      { title: "run", nodes: [{ label: c.run?.name ?? mv.run_id.slice(0, 8), sub: c.run?.commit ? `commit ${c.run.commit.slice(0, 8)}${c.run.dirty ? " (dirty)" : ""}` : mv.run_id.slice(0, 8), href: `/runs/${mv.run_id}` }] },
                      { title: "version", nodes: [{ label: mv.ref, sub: `${mv.flavor} · ${fmtBytes(mv.size)}` }] },
                      {
                        title: "stage & aliases",
                        nodes: [
                          ...(mv.stage ? [{ label: `stage: ${mv.stage}` }] : []),
                          ...mv.aliases.map((a) => ({ label: `alias: ${a}` })),
                          ...(!mv.stage && mv.aliases.length === 0 ? [{ label: "no stage or alias" }] : []),
                        ],
                      },
                    ]}
                  />
                </div>
                <div className="grid2">
                  <div className="panel">
                    <h2 style={{ marginTop: 0 }}>Card</h2>
                    <KV
                      rows={[
                        ["model", c.description ?? "—"],
                        ["this version", c.version_description ?? "—"],
                        ["owner", c.owner ?? "—"],
                        ["registered", `${fmtTime(c.registered_at)} by ${c.registered_by ?? "?"}`],
                        ["flavor", `${c.flavor} (${c.format})`],
                        ["digest", <code>{c.digest.slice(0, 16)}…</code>],
                        ...Object.entries(c).filter(([k]) => !KNOWN.has(k)).map(([k, val]) => [k.replace(/_/g, " "), typeof val === "string" ? val : JSON.stringify(val)] as [string, string]),
                      ]}
                    />
                    <h3>Final metrics of the run</h3>
                    <ValueTable values={c.metrics} />
                  </div>
                  <div className="panel">
                    <h2 style={{ marginTop: 0 }}>Signature</h2>
                    {c.signature ? (
                      <>
                        <div className="muted small">inputs ({c.signature.inputs?.fields.length ?? 0})</div>
                        <div style={{ maxHeight: 260, overflow: "auto" }}>
                          <table className="t">
                            <tbody>
                              {c.signature.inputs?.fields.map((f, i) => (
                                <tr key={i}><td className="mono">{f.name ?? `#${i}`}</td><td className="mono">{f.dtype}</td></tr>
                              ))}
                            </tbody>
                          </table>
                        </div>
                        <div className="muted small" style={{ marginTop: 8 }}>outputs</div>
                        <table className="t">
                          <tbody>
                            {c.signature.outputs?.fields.map((f, i) => (
                              <tr key={i}><td className="mono">{f.name ?? `#${i}`}</td><td className="mono">{f.dtype} {f.shape ? `[${f.shape.join(", ")}]` : ""}</td></tr>
                            ))}
                          </tbody>
                        </table>
                      </>
                    ) : (
                      <div className="muted">No signature.</div>
                    )}
                    <h3>Files</h3>
                    <table className="t">
                      <tbody>
                        {mv.files.map((f) => (
                          <tr key={f.path}><td className="mono">{f.path}</td><td className="num">{fmtBytes(f.size)}</td><td className="mono small muted">{f.digest.slice(0, 12)}</td></tr>
                        ))}
                      </tbody>
                    </table>
                    {c.run ? (
                      <>
                        <h3>Params of the run</h3>
                        <ValueTable values={c.run.params} />
                      </>
                    ) : null}
                  </div>
                </div>
              </>
            )}
          </Fetched>
          <div className="muted small">{fmtNum(mv.files.length)} files · sha256 {mv.digest}</div>
        </>
      )}
    </Fetched>
  );
}
