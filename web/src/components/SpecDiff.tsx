/** Two versions of a deployment spec, line by line (the spec as sorted JSON, then what its references
 * resolved to), in the colours of the code diff. */
import { useMemo } from "react";
import { lineDiff, versionText, type DeploymentVersion } from "../lib/deployments";

export function SpecDiff({ from, to }: { from: DeploymentVersion; to: DeploymentVersion }) {
  const lines = useMemo(() => lineDiff(versionText(from), versionText(to)), [from, to]);
  const added = lines.filter((l) => l.kind === "add").length;
  const removed = lines.filter((l) => l.kind === "del").length;
  return (
    <div className="diff-file" data-testid="spec-diff">
      <div className="fh">
        <span>
          v{from.version} → v{to.version}
        </span>
        <span className="add">+{added}</span>
        <span className="del">−{removed}</span>
        {added + removed === 0 ? <span className="muted">the same spec and versions</span> : null}
      </div>
      <table className="diff">
        <tbody>
          {lines.map((l, i) => (
            <tr key={i} className={l.kind}>
              <td className="ln">{l.oldNo ?? ""}</td>
              <td className="ln">{l.newNo ?? ""}</td>
              <td>
                {l.kind === "add" ? "+" : l.kind === "del" ? "-" : " "}
                {l.text}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
