/**
 * One deployment: its spec drawn readable, the evidence per variant, the version history (who, when, why,
 * what the references resolved to) with a diff between any two versions, and rollback for members.
 * State in the URL: `v` (the version whose spec is shown), `from` and `to` (the versions compared).
 */
import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { ApiError, apiSend } from "../lib/api";
import { useApi } from "../lib/useApi";
import { atLeast, actingUser, projectRole, useMe } from "../lib/me";
import { versionWhat, type Deployment, type DeploymentVersion } from "../lib/deployments";
import { fmtAgo, fmtTime } from "../lib/format";
import { Badge, ErrorBox, Fetched, Note } from "../components/ui";
import { SpecView } from "../components/DeploymentSpec";
import { EvidencePanel } from "../components/Evidence";
import { SpecDiff } from "../components/SpecDiff";

export default function DeploymentPage() {
  const { name = "" } = useParams();
  const base = `/deployments/${encodeURIComponent(name)}`;
  const dep = useApi<Deployment>(base);
  const history = useApi<{ versions: DeploymentVersion[]; total: number }>(`${base}/versions`, { limit: 1000 });
  const reload = () => {
    dep.reload();
    history.reload();
  };
  return (
    <Fetched state={dep} what={`Deployment ${name}`}>
      {(d) => <DeploymentView dep={d} versions={history.data?.versions} historyError={history.error} reload={reload} />}
    </Fetched>
  );
}

function DeploymentView({
  dep,
  versions,
  historyError,
  reload,
}: {
  dep: Deployment;
  versions: DeploymentVersion[] | undefined;
  historyError: ApiError | null;
  reload: () => void;
}) {
  const [sp, setSp] = useSearchParams();
  const me = useMe();
  const mayChange = atLeast(projectRole(me, dep.project), "member");
  const shownNo = Number(sp.get("v") ?? dep.version);
  const shown = shownNo === dep.version ? dep.current : versions?.find((v) => v.version === shownNo);
  const setParams = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    setSp(next, { replace: true });
  };
  return (
    <>
      <div className="crumbs">
        <Link to="/deployments">Deployments</Link> / {dep.name}
      </div>
      <div className="page-head">
        <h1>{dep.name}</h1>
        <Badge>spec v{dep.version}</Badge>
        <span className="sub">
          project {dep.project} · {dep.current.action.replace("_", " ")} by <b>{dep.current.user ?? "?"}</b> {fmtAgo(dep.current.time)}
          {dep.current.comment ? ` · “${dep.current.comment}”` : ""}
        </span>
      </div>
      <div className="grid2">
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>
            Spec {shown && shown.version !== dep.version ? <Badge kind="open">v{shown.version}, not current</Badge> : null}
          </h2>
          {shown && shown.version !== dep.version ? (
            <div className="small" style={{ marginBottom: 6 }}>
              <Link to={`?${withoutV(sp)}`} replace>
                show the current spec (v{dep.version})
              </Link>
            </div>
          ) : null}
          {shown ? (
            <SpecView spec={shown.spec} resolved={shown.details.resolved} />
          ) : versions || historyError ? (
            <Note>
              {dep.name} has no version {sp.get("v")}: it is at v{dep.version}.
            </Note>
          ) : (
            <div className="loading">Loading v{shownNo}…</div>
          )}
        </div>
        <div className="panel">
          <h2 style={{ marginTop: 0 }}>Rollback</h2>
          <Rollback dep={dep} versions={versions} mayChange={mayChange} reload={reload} />
        </div>
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>Evidence per variant</h2>
        <EvidencePanel name={dep.name} />
      </div>
      <div className="panel">
        <h2 style={{ marginTop: 0 }}>History</h2>
        {historyError ? <ErrorBox error={historyError} /> : null}
        {versions ? <History dep={dep} versions={versions} sp={sp} setParams={setParams} /> : historyError ? null : <div className="loading">Loading history…</div>}
      </div>
    </>
  );
}

function withoutV(sp: URLSearchParams): string {
  const next = new URLSearchParams(sp);
  next.delete("v");
  return next.toString();
}

function Rollback({
  dep,
  versions,
  mayChange,
  reload,
}: {
  dep: Deployment;
  versions: DeploymentVersion[] | undefined;
  mayChange: boolean;
  reload: () => void;
}) {
  const me = useMe();
  const [to, setTo] = useState("");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const actor = actingUser(me);
  if (dep.version < 2) return <div className="muted">Only one version: nothing to roll back to.</div>;
  if (!mayChange)
    return (
      <Note>
        Your role on {dep.project} is <b>{projectRole(me, dep.project)}</b>: members roll back (<code>mltrail deploy rollback {dep.name}</code>).
      </Note>
    );
  const target = to ? Number(to) : dep.version - 1;
  const rollback = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const body: Record<string, unknown> = { to_version: target };
      if (comment) body.comment = comment;
      if (!me?.authenticated && actor) body.user = actor;
      const after = await apiSend<Deployment>("POST", `/deployments/${encodeURIComponent(dep.name)}/rollback`, body);
      setDone(`rolled back to v${target}: the spec is now v${after.version}`);
      setComment("");
      setTo("");
      reload();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { type: "Error", message: String(e) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <div className="toolbar">
        <label className="small">
          to{" "}
          <select aria-label="roll back to" value={to} onChange={(e) => setTo(e.target.value)}>
            {(versions ?? [])
              .filter((v) => v.version !== dep.version)
              .map((v) => (
                <option key={v.version} value={v.version === dep.version - 1 ? "" : String(v.version)}>
                  v{v.version}
                  {v.version === dep.version - 1 ? " (the previous)" : ""} · {versionWhat(v)}
                </option>
              ))}
          </select>
        </label>
      </div>
      <textarea
        aria-label="rollback comment"
        placeholder="why (optional, kept in the history)"
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        rows={2}
        style={{ width: "100%", marginBottom: 8 }}
      />
      <div className="toolbar">
        <button className="danger" disabled={busy} onClick={() => void rollback()}>
          Roll back to v{target}
        </button>
        <span className="muted small">
          a new version with v{target}'s spec{!me?.authenticated && actor ? `, as ${actor}` : ""}; running gateways pick it up at their next poll (<code>mltrail serve --poll</code>, every 2 s by default)
        </span>
      </div>
      {done ? <div className="notice">{done}</div> : null}
      {error ? (
        error.status === 403 ? (
          <div className="error-box" role="alert">
            <b>Not allowed (403).</b> {error.message}
          </div>
        ) : (
          <ErrorBox error={error} />
        )
      ) : null}
    </>
  );
}

function History({
  dep,
  versions,
  sp,
  setParams,
}: {
  dep: Deployment;
  versions: DeploymentVersion[];
  sp: URLSearchParams;
  setParams: (changes: Record<string, string | null>) => void;
}) {
  // Default comparison: the current version against the one before it.
  const to = Number(sp.get("to") ?? dep.version);
  const from = Number(sp.get("from") ?? dep.version - 1);
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  return (
    <>
      <table className="t" data-testid="history">
        <thead>
          <tr>
            <th className="num">Ver</th>
            <th>When</th>
            <th>Action</th>
            <th>Who</th>
            <th>What</th>
            <th>Resolved</th>
            <th>Comment</th>
            <th title="compare: from / to">Diff</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-testid="history-row">
              <td className="num">
                <Link to={`?${withParam(sp, "v", String(v.version))}`} replace title="show this version's spec">
                  v{v.version}
                </Link>
                {v.version === dep.version ? <> <Badge kind="ok">current</Badge></> : null}
              </td>
              <td title={fmtTime(v.time)}>{fmtTime(v.time)}</td>
              <td>{v.action.replace("_", " ")}</td>
              <td>
                <b>{v.user ?? "?"}</b>
                {v.client ? <span className="muted small"> from {v.client}</span> : null}
              </td>
              <td className="small">{versionWhat(v)}</td>
              <td className="mono small">
                {Object.entries(v.details.resolved ?? {}).map(([ref, ver]) => (
                  <div key={ref}>{ref === ver ? ver : `${ref} → ${ver}`}</div>
                ))}
              </td>
              <td>{v.comment}</td>
              <td style={{ whiteSpace: "nowrap" }}>
                <input type="radio" name="diff-from" aria-label={`compare from v${v.version}`} checked={from === v.version} onChange={() => setParams({ from: String(v.version) })} />
                <input type="radio" name="diff-to" aria-label={`compare to v${v.version}`} checked={to === v.version} onChange={() => setParams({ to: String(v.version) })} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {a && b ? (
        <div style={{ marginTop: 12 }}>
          <SpecDiff from={a} to={b} />
        </div>
      ) : versions.length > 1 ? (
        <div className="muted small" style={{ marginTop: 8 }}>
          Pick two versions to compare.
        </div>
      ) : null}
    </>
  );
}

function withParam(sp: URLSearchParams, key: string, value: string): string {
  const next = new URLSearchParams(sp);
  next.set(key, value);
  return next.toString();
}
