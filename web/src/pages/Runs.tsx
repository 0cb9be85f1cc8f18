/** A project's runs: server-side filter, sort and paging; chosen columns and selection in the URL. */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiError, apiGet } from "../lib/api";
import type { Run, RunPage } from "../lib/types";
import { BASE_COLUMNS, collectKeys, filterFields, mergeKeys, nextSort, parseColumn, type Column, type KeySets } from "../lib/columns";
import { FilterBox, FilterError } from "../components/FilterBox";
import { ColumnChooser } from "../components/ColumnChooser";
import { RunsTable } from "../components/RunsTable";
import { ErrorBox, NotFound } from "../components/ui";
import { runsPageQuery } from "../lib/runsQuery";
import { getEarly, prefetch } from "../lib/prefetch";

/** Chosen extra columns: ``col`` repeated in the URL; absent means the defaults (first few metrics). */
export function chosenColumns(sp: URLSearchParams, keys: KeySets): string[] {
  if (sp.has("col")) return sp.getAll("col").filter((c) => c !== "");
  return keys.metrics.filter((k) => !k.startsWith("sys/")).slice(0, 4).map((k) => parseColumn(`metrics.${k}`)?.id ?? "").filter(Boolean);
}

export default function RunsPage() {
  const { project = "" } = useParams();
  const [sp, setSp] = useSearchParams();
  const nav = useNavigate();
  const filter = sp.get("filter") ?? "";
  const sort = sp.get("sort");
  const selected = useMemo(() => (sp.get("sel") ?? "").split(",").filter(Boolean), [sp]);
  const [runs, setRuns] = useState<Run[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [keys, setKeys] = useState<KeySets>({ params: [], metrics: [], tags: [], summary: [] });
  const gen = useRef(0);
  const loadingMore = useRef(false);

  const update = useCallback(
    (changes: Record<string, string | string[] | null>) => {
      const next = new URLSearchParams(sp);
      for (const [k, v] of Object.entries(changes)) {
        next.delete(k);
        if (Array.isArray(v)) (v.length ? v : [""]).forEach((x) => next.append(k, x));
        else if (v !== null && v !== "") next.set(k, v);
      }
      setSp(next, { replace: true });
    },
    [sp, setSp],
  );

  const addKeys = useCallback((sample: Run[]) => {
    const k = collectKeys(sample);
    setKeys((old) => mergeKeys(old, k));
  }, []);

  // Keys for the column chooser and completion: every key of the project's runs, whatever the filter says
  // (GET /projects/{p}/keys); the runs loaded since add theirs. Asked for once the first page is shown: it
  // reads the keys of every run (0.4-0.6 s over 10,000 runs), and on the same server it would delay the page.
  const keysAskedFor = useRef<string | null>(null);
  useEffect(() => {
    if (loading || keysAskedFor.current === project) return;
    keysAskedFor.current = project;
    apiGet<KeySets>(`/projects/${encodeURIComponent(project)}/keys`).then(
      (k) => setKeys((old) => mergeKeys(old, k)),
      () => undefined,
    );
  }, [loading, project]);

  const fetchPage = useCallback(
    (offset: number) => getEarly<RunPage>("/runs", runsPageQuery(project, filter, sort, offset)),
    [project, filter, sort],
  );

  useEffect(() => {
    const g = ++gen.current;
    setLoading(true);
    fetchPage(0).then(
      (page) => {
        if (g !== gen.current) return;
        setRuns(page.runs);
        setTotal(page.total);
        setError(null);
        setLoading(false);
        if (page.runs.length) addKeys(page.runs);
      },
      (e: ApiError) => {
        if (g !== gen.current) return;
        setError(e);
        setLoading(false);
        if (e.status !== 400) {
          setRuns([]);
          setTotal(0);
        }
      },
    );
  }, [fetchPage]);

  const needMore = useCallback(() => {
    if (loadingMore.current || error) return;
    loadingMore.current = true;
    const g = gen.current;
    fetchPage(runs.length)
      .then((page) => {
        if (g !== gen.current) return;
        setRuns((old) => {
          const seen = new Set(old.map((r) => r.id));
          return [...old, ...page.runs.filter((r) => !seen.has(r.id))];
        });
        setTotal(page.total);
      })
      .catch((e: ApiError) => setError(e))
      .finally(() => {
        loadingMore.current = false;
      });
  }, [fetchPage, runs.length, error]);

  const extra = chosenColumns(sp, keys);
  const extraKey = extra.join("\n");
  // The same array while the chosen columns stay the same, so that unchanged rows skip re-rendering.
  const columns: Column[] = useMemo(
    () => [...BASE_COLUMNS, ...extra.map(parseColumn).filter((c): c is Column => c !== null)],
    [extraKey], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const fields = useMemo(() => filterFields(keys), [keys]);
  // A sort or a filter asks for its first page in the event handler, before the URL changes and the page
  // re-renders; the page's own request of the same URL then takes that answer (lib/prefetch.ts).
  const applySort = (id: string) => {
    const next = nextSort(sort, id);
    prefetch("/runs", runsPageQuery(project, filter, next, 0));
    update({ sort: next });
  };
  const applyFilter = (f: string) => {
    if (f !== filter) prefetch("/runs", runsPageQuery(project, f, sort, 0));
    update({ filter: f || null, sel: null });
  };
  const filterError = error && error.status === 400 && error.field === "filter" ? error : null;
  const sortError = error && error.status === 400 && error.field === "sort" ? error : null;
  const otherError = error && !filterError && !sortError ? error : null;

  if (otherError?.status === 404) return <NotFound what={`Project ${project}: ${otherError.message}`} />;
  return (
    <div className="runs-wrap">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/projects">Projects</Link> / {project}
          </div>
          <h1>Runs</h1>
        </div>
        <span className="sub" data-testid="runs-count">
          {loading ? "loading…" : filterError || sortError ? "invalid query" : `${total.toLocaleString()} runs${filter ? " match" : ""}`}
        </span>
        <Link to={`/projects/${encodeURIComponent(project)}/team`} className="small">
          team activity
        </Link>
      </div>
      <div className="toolbar" style={{ alignItems: "flex-start" }}>
        <FilterBox value={filter} onApply={applyFilter} fields={fields} error={filterError} />
        {filter ? <button onClick={() => update({ filter: null })}>Clear filter</button> : null}
        <details className="syntax">
          <summary className="small">syntax</summary>
          <div className="syntax-pop small">
            <code>metrics.val/acc &gt;= 0.9 and params.optimizer in ("adam", "adamw")</code>
            <code>status = "failed" or duration &gt; 3600</code>
            <code>min(metrics.loss) &lt; 0.1 and not tags.baseline exists</code>
            <code>name contains "bert" and user = "ana"</code>
            <div className="muted">
              Fields: params.*, metrics.* (last), min(…)/max(…), tags.*, summary.*, id, name, user, status, start_time,
              end_time, duration, git.commit, git.branch. Keys with other characters go in `backquotes`. Text is quoted. A key a run lacks
              makes its comparison false. Tab completes a key.
            </div>
          </div>
        </details>
        <ColumnChooser keys={keys} selected={extra} onChange={(ids) => update({ col: ids })} />
        <button
          className="primary"
          disabled={selected.length < 2 || selected.length > 50}
          title={selected.length < 2 ? "select 2 to 50 runs" : ""}
          onClick={() => nav(`/compare?runs=${selected.join(",")}&project=${encodeURIComponent(project)}`)}
        >
          Compare{selected.length ? ` (${selected.length})` : ""}
        </button>
        {selected.length ? <button onClick={() => update({ sel: null })}>Clear selection</button> : null}
      </div>
      {sortError ? <FilterError error={sortError} /> : null}
      {otherError ? <ErrorBox error={otherError} /> : null}
      {!loading && !error && total === 0 ? (
        <div className="note">
          {filter ? "No run matches this filter." : <>No runs in {project} yet. Start one with <code>mltrail.init(project="{project}")</code>.</>}
        </div>
      ) : null}
      <RunsTable
        runs={runs}
        total={total}
        columns={columns}
        sort={sort}
        onSort={applySort}
        selected={selected}
        onSelect={(ids) => update({ sel: ids.join(",") || null })}
        onNeedMore={needMore}
      />
      <div className="statusbar">
        <span>
          {runs.length.toLocaleString()} of {total.toLocaleString()} loaded
        </span>
        {sort ? <span>sorted by <code>{sort}</code></span> : null}
        <span>Sort: click a header (ascending, descending, off). Filter: Enter applies, Tab completes a key.</span>
      </div>
    </div>
  );
}
