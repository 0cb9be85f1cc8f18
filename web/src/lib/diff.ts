/** A unified diff (git diff output) split into files and typed lines for rendering. */

export type DiffLineKind = "add" | "del" | "ctx" | "hunk" | "meta";

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
  oldNo: number | null;
  newNo: number | null;
}

export interface DiffFile {
  oldPath: string;
  newPath: string;
  lines: DiffLine[];
  added: number;
  removed: number;
  binary: boolean;
}

export function parseDiff(patch: string): DiffFile[] {
  const files: DiffFile[] = [];
  let cur: DiffFile | null = null;
  let oldNo = 0;
  let newNo = 0;
  const start = (oldPath: string, newPath: string) => {
    cur = { oldPath, newPath, lines: [], added: 0, removed: 0, binary: false };
    files.push(cur);
  };
  for (const raw of patch.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.startsWith("diff --git ")) {
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      start(m ? m[1] : line.slice(11), m ? m[2] : line.slice(11));
      continue;
    }
    if (!cur) {
      if (line.startsWith("--- ")) start(line.slice(4).replace(/^a\//, ""), line.slice(4).replace(/^a\//, ""));
      else continue;
    }
    const f: DiffFile = cur!;
    if (line.startsWith("@@")) {
      const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      if (m) {
        oldNo = Number(m[1]);
        newNo = Number(m[2]);
      }
      f.lines.push({ kind: "hunk", text: line, oldNo: null, newNo: null });
    } else if (line.startsWith("--- ") || line.startsWith("+++ ")) {
      if (line.startsWith("+++ ") && line !== "+++ /dev/null") f.newPath = line.slice(4).replace(/^b\//, "");
      if (line.startsWith("--- ") && line !== "--- /dev/null") f.oldPath = line.slice(4).replace(/^a\//, "");
    } else if (line.startsWith("Binary files")) {
      f.binary = true;
      f.lines.push({ kind: "meta", text: line, oldNo: null, newNo: null });
    } else if (line.startsWith("+")) {
      f.lines.push({ kind: "add", text: line.slice(1), oldNo: null, newNo: newNo++ });
      f.added++;
    } else if (line.startsWith("-")) {
      f.lines.push({ kind: "del", text: line.slice(1), oldNo: oldNo++, newNo: null });
      f.removed++;
    } else if (line.startsWith(" ")) {
      f.lines.push({ kind: "ctx", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
    } else if (line.startsWith("\\")) {
      f.lines.push({ kind: "meta", text: line, oldNo: null, newNo: null });
    } else if (/^(index |new file|deleted file|similarity|rename |old mode|new mode)/.test(line)) {
      f.lines.push({ kind: "meta", text: line, oldNo: null, newNo: null });
    }
  }
  return files;
}
