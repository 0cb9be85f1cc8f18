import { render, screen } from "@testing-library/react";
import { parseDiff } from "../lib/diff";
import { DiffView } from "../components/Diff";

const PATCH = `diff --git a/train.py b/train.py
index 1111111..2222222 100644
--- a/train.py
+++ b/train.py
@@ -10,4 +10,5 @@ def main():
     model = build()
-    lr = 0.1
+    lr = 0.01
+    wd = 1e-4
     fit(model, lr)
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
`;

describe("diff", () => {
  it("splits files and numbers old and new lines", () => {
    const files = parseDiff(PATCH);
    expect(files.map((f) => [f.newPath, f.added, f.removed])).toEqual([["train.py", 2, 1], ["new.txt", 1, 0]]);
    const lines = files[0].lines.filter((l) => l.kind !== "meta");
    expect(lines.map((l) => [l.kind, l.oldNo, l.newNo])).toEqual([
      ["hunk", null, null], ["ctx", 10, 10], ["del", 11, null], ["add", null, 11], ["add", null, 12], ["ctx", 12, 13],
    ]);
    expect(files[1].oldPath).toBe("new.txt");
  });

  it("renders added and removed lines in their colours", () => {
    const { container } = render(<DiffView patch={PATCH} />);
    expect(screen.getByText(/2 files changed/)).toBeInTheDocument();
    expect(container.querySelectorAll("tr.add")).toHaveLength(3);
    expect(container.querySelectorAll("tr.del")).toHaveLength(1);
    expect(container.querySelector("tr.del")!.textContent).toContain("-    lr = 0.1");
    expect(container.querySelector("tr.hunk")!.textContent).toContain("@@ -10,4 +10,5 @@");
  });

  it("says so when the patch is empty", () => {
    render(<DiffView patch="" />);
    expect(screen.getByText("The patch is empty.")).toBeInTheDocument();
  });
});
