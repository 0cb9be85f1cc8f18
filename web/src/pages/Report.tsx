/** One report, its panels evaluated for you now; members edit its markdown source (a new version each save). */
import { useEffect, useState } from "react";
import { useParams, useSearchParams } from "react-router-dom";
import { apiSend, buildUrl } from "../lib/api";
import { useApi } from "../lib/useApi";
import { parseDirectives, type EvaluatedReport, type ReportDefinition } from "../lib/reports";
import { fmtTime } from "../lib/format";
import { atLeast, projectRole, useMe } from "../lib/me";
import { ErrorBox, Fetched } from "../components/ui";
import { ReportBlocks } from "../components/ReportBlocks";

function Editor({ path, onSaved }: { path: string; onSaved: () => void }) {
  const def = useApi<ReportDefinition>(path, { evaluate: "false" });
  const [source, setSource] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (def.data && source === null) setSource(def.data.source);
  }, [def.data, source]);
  if (!def.data || source === null) return <ErrorBox error={def.error} />;
  const directives = parseDirectives(source);
  const save = () =>
    apiSend<ReportDefinition>("PUT", path, { source, expected_version: def.data?.version }).then(() => {
      setError(null);
      setSource(null);
      def.reload();
      onSaved();
    }, setError);
  return (
    <div className="panel" data-testid="report-editor">
      <textarea
        aria-label="report source"
        value={source}
        rows={Math.min(40, Math.max(10, source.split("\n").length + 2))}
        style={{ width: "100%", fontFamily: "monospace", fontSize: 12 }}
        onChange={(e) => setSource(e.target.value)}
      />
      <p className="small muted">
        {directives.length} panel{directives.length === 1 ? "" : "s"}:{" "}
        {directives.map((d) => (
          <span key={d.line} className={d.problem ? "bad" : ""} title={d.problem}>
            {d.type || "?"} (line {d.line}){d.problem ? ` — ${d.problem}` : ""}{" "}
          </span>
        ))}
      </p>
      <button onClick={save} disabled={directives.some((d) => d.problem)}>
        Save version {def.data.version + 1}
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

export default function ReportPage() {
  const { project = "", name = "" } = useParams();
  const [sp, setSp] = useSearchParams();
  const path = `/projects/${encodeURIComponent(project)}/reports/${encodeURIComponent(name)}`;
  const state = useApi<EvaluatedReport>(path);
  const mayEdit = atLeast(projectRole(useMe(), project), "member");
  const editing = mayEdit && sp.get("edit") === "1";
  const toggle = () => {
    const next = new URLSearchParams(sp);
    if (editing) next.delete("edit");
    else next.set("edit", "1");
    setSp(next, { replace: true });
  };
  return (
    <Fetched state={state} what="report">
      {(r) => (
        <>
          <div className="page-head">
            <h1>{r.title}</h1>
            <span className="sub">
              {r.project}/{r.name} · version {r.version} · saved {fmtTime(r.updated_at)} by {r.updated_by ?? "–"} · data as of{" "}
              {fmtTime(r.evaluated_at)}
            </span>
            <a className="btn" href={buildUrl(`${path}/html`, { download: "true" })} download={`${r.name}.html`}>
              Download HTML
            </a>
            {mayEdit ? <button onClick={toggle}>{editing ? "Close editor" : "Edit"}</button> : null}
          </div>
          {editing ? <Editor path={path} onSaved={state.reload} /> : null}
          <ReportBlocks blocks={r.blocks} />
        </>
      )}
    </Fetched>
  );
}
