/** The virtualized runs table: only visible rows are in the DOM, so 10,000 runs scroll smoothly. */
import { memo, useCallback, useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Run } from "../lib/types";
import { cellValue, parseSort, type Column } from "../lib/columns";
import { fmtDuration, fmtNum, fmtTime } from "../lib/format";

const ROW = 30;

function width(c: Column): number {
  switch (c.id) {
    case "status": return 86;
    case "name": return 200;
    case "user": return 96;
    case "start_time": return 136;
    case "duration": return 88;
    case "git.commit": return 84;
    default: return 124;
  }
}

function Cell({ run, col }: { run: Run; col: Column }) {
  if (col.id === "status") return <span className={`badge ${run.status}`}>{run.status}</span>;
  if (col.id === "name")
    return (
      <Link to={`/runs/${run.id}`} title={run.id}>
        {run.name}
      </Link>
    );
  if (col.id === "start_time") return <>{fmtTime(run.start_time)}</>;
  if (col.id === "duration") return <>{fmtDuration(run.duration)}</>;
  if (col.id === "git.commit") {
    const git = run.git;
    const c = git?.commit;
    const title = c ? `${c}${git?.branch ? ` on ${git.branch}` : ""}${git?.dirty ? ", with uncommitted changes" : ""}` : "no commit recorded";
    return <span className="mono" title={title}>{c ? `${c.slice(0, 8)}${git?.dirty ? "*" : ""}` : "—"}</span>;
  }
  const v = cellValue(run, col);
  if (v === undefined) return <span className="muted">—</span>;
  return typeof v === "number" ? <span style={{ display: "block", textAlign: "right" }}>{fmtNum(v)}</span> : <>{fmtNum(v)}</>;
}

/** One row; memoized, so a click on a header or a checkbox re-renders only the rows whose props changed. */
const Row = memo(function Row({
  run,
  columns,
  template,
  top,
  isSel,
  onToggle,
}: {
  run: Run;
  columns: Column[];
  template: string;
  top: number;
  isSel: boolean;
  onToggle: (id: string) => void;
}) {
  return (
    <div
      className={`vt-row ${isSel ? "selected" : ""}`}
      data-testid="run-row"
      style={{ top, height: ROW, gridTemplateColumns: template, width: "100%" }}
    >
      <div>
        <input type="checkbox" aria-label={`select ${run.name}`} checked={isSel} onChange={() => onToggle(run.id)} />
      </div>
      {columns.map((c) => (
        <div key={c.id} className={isNum(c) ? "num" : ""}>
          <Cell run={run} col={c} />
        </div>
      ))}
    </div>
  );
});

function isNum(c: Column): boolean {
  return c.kind === "metrics" || c.id === "duration";
}

export function RunsTable({
  runs,
  total,
  columns,
  sort,
  onSort,
  selected,
  onSelect,
  onNeedMore,
}: {
  runs: Run[];
  total: number;
  columns: Column[];
  sort: string | null;
  onSort: (id: string) => void;
  selected: string[];
  onSelect: (ids: string[]) => void;
  onNeedMore: () => void;
}) {
  const parent = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({
    count: runs.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW,
    overscan: 8,
  });
  const items = virt.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (runs.length < total && lastIndex >= runs.length - 40) onNeedMore();
  }, [lastIndex, runs.length, total, onNeedMore]);
  const template = ["34px", ...columns.map((c) => `${width(c)}px`)].join(" ");
  const totalWidth = 34 + columns.reduce((s, c) => s + width(c), 0);
  const cur = parseSort(sort);
  const allSelected = runs.length > 0 && runs.every((r) => selected.includes(r.id));
  // Stable across renders (reads the latest selection), so that memoized rows keep their props.
  const latest = useRef({ selected, onSelect });
  latest.current = { selected, onSelect };
  const toggle = useCallback((id: string) => {
    const { selected: sel, onSelect: select } = latest.current;
    select(sel.includes(id) ? sel.filter((s) => s !== id) : [...sel, id]);
  }, []);
  return (
    <div className="vt" ref={parent} data-testid="runs-table">
      <div className="vt-head" style={{ gridTemplateColumns: template, width: Math.max(totalWidth, 0), minWidth: "100%" }}>
        <div>
          <input
            type="checkbox"
            aria-label="select all loaded"
            checked={allSelected}
            onChange={() => onSelect(allSelected ? [] : runs.slice(0, 50).map((r) => r.id))}
          />
        </div>
        {columns.map((c) => (
          <div
            key={c.id}
            className={`${c.sortable ? "sortable" : ""} ${cur?.id === c.id ? "sorted" : ""} ${isNum(c) ? "num" : ""}`}
            title={c.sortable ? `sort by ${c.id}` : "not sortable"}
            role="columnheader"
            aria-sort={cur?.id === c.id ? (cur.desc ? "descending" : "ascending") : "none"}
            onClick={() => c.sortable && onSort(c.id)}
          >
            {c.label}
            {cur?.id === c.id ? (cur.desc ? " ▼" : " ▲") : ""}
          </div>
        ))}
      </div>
      <div style={{ height: virt.getTotalSize(), position: "relative", width: totalWidth, minWidth: "100%" }}>
        {items.map((item) => {
          const run = runs[item.index];
          return (
            <Row
              key={run.id}
              run={run}
              columns={columns}
              template={template}
              top={item.start}
              isSel={selected.includes(run.id)}
              onToggle={toggle}
            />
          );
        })}
      </div>
    </div>
  );
}
