/** A git patch rendered as coloured hunks, one box per file. */
import { useMemo, useState } from "react";
import { parseDiff } from "../lib/diff";

const MAX_LINES = 3000;

export function DiffView({ patch }: { patch: string }) {
  const files = useMemo(() => parseDiff(patch), [patch]);
  const [showAll, setShowAll] = useState(false);
  if (files.length === 0) return <div className="muted">The patch is empty.</div>;
  let budget = showAll ? Infinity : MAX_LINES;
  return (
    <div data-testid="diff">
      <div className="muted small" style={{ marginBottom: 6 }}>
        {files.length} file{files.length > 1 ? "s" : ""} changed,{" "}
        <span style={{ color: "var(--ok)" }}>+{files.reduce((s, f) => s + f.added, 0)}</span>{" "}
        <span style={{ color: "var(--bad)" }}>−{files.reduce((s, f) => s + f.removed, 0)}</span>
      </div>
      {files.map((f, i) => {
        const lines = f.lines.slice(0, Math.max(0, budget));
        budget -= lines.length;
        return (
          <details className="diff-file" key={i} open={files.length <= 8 || f.lines.length <= 400}>
            <summary className="fh">
              <span>{f.oldPath === f.newPath ? f.newPath : `${f.oldPath} → ${f.newPath}`}</span>
              <span className="add">+{f.added}</span>
              <span className="del">−{f.removed}</span>
            </summary>
            {lines.length ? (
              <table className="diff">
                <tbody>
                  {lines.map((l, j) => (
                    <tr key={j} className={l.kind}>
                      <td className="ln">{l.oldNo ?? ""}</td>
                      <td className="ln">{l.newNo ?? ""}</td>
                      <td>
                        {l.kind === "add" ? "+" : l.kind === "del" ? "-" : l.kind === "ctx" ? " " : ""}
                        {l.text}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : f.lines.length ? (
              <div className="muted small" style={{ padding: 6 }}>
                (not shown)
              </div>
            ) : null}
          </details>
        );
      })}
      {!showAll && budget <= 0 ? (
        <button onClick={() => setShowAll(true)}>Show the whole patch</button>
      ) : null}
    </div>
  );
}
