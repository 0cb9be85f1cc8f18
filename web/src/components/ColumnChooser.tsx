/** Choose extra runs-table columns: any param, metric (last / min / max), tag or summary key. */
import { useEffect, useRef, useState } from "react";
import { columnId, type ColumnKind, type KeySets, type MetricAgg } from "../lib/columns";

export function ColumnChooser({
  keys,
  selected,
  onChange,
}: {
  keys: KeySets;
  selected: string[];
  onChange: (ids: string[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState("");
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  const toggle = (id: string) =>
    onChange(selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id]);
  const group = (kind: ColumnKind, title: string, list: string[]) => {
    const shown = list.filter((k) => k.toLowerCase().includes(q.toLowerCase()));
    if (shown.length === 0) return null;
    return (
      <>
        <h4>{title}</h4>
        {shown.map((k) => {
          if (kind !== "metrics") {
            const id = columnId(kind, k);
            return (
              <label key={id}>
                <input type="checkbox" checked={selected.includes(id)} onChange={() => toggle(id)} />
                <span className="mono">{k}</span>
              </label>
            );
          }
          return (
            <label key={k}>
              <span className="mono">{k}</span>
              <span className="aggs">
                {(["last", "min", "max"] as MetricAgg[]).map((agg) => {
                  const id = columnId("metrics", k, agg);
                  return (
                    <span key={agg}>
                      <input
                        type="checkbox"
                        aria-label={`${k} ${agg}`}
                        checked={selected.includes(id)}
                        onChange={() => toggle(id)}
                      />
                      {agg}
                    </span>
                  );
                })}
              </span>
            </label>
          );
        })}
      </>
    );
  };
  return (
    <div className="chooser" ref={ref}>
      <button onClick={() => setOpen(!open)} aria-expanded={open}>
        Columns ({selected.length})
      </button>
      {open ? (
        <div className="chooser-pop" data-testid="column-chooser">
          <input placeholder="search keys" value={q} onChange={(e) => setQ(e.target.value)} style={{ width: "100%" }} autoFocus />
          {group("metrics", "Metrics", keys.metrics)}
          {group("params", "Params", keys.params)}
          {group("summary", "Summary", keys.summary)}
          {group("tags", "Tags", keys.tags)}
          <div style={{ marginTop: 8, display: "flex", gap: 6 }}>
            <button onClick={() => onChange([])}>Clear</button>
            <button onClick={() => setOpen(false)}>Done</button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
