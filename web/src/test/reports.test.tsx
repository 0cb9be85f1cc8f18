import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { ReportBlocks } from "../components/ReportBlocks";
import { parseDirectives, type EvaluatedBlock } from "../lib/reports";

const SOURCE = `# Week 49

\`\`\`mltrail-panel
type: runs
filter: metrics.acc > 0.9
# a comment
\`\`\`

\`\`\`mltrail-panel
type: pie
\`\`\`

\`\`\`mltrail-panel
type: compare
runs: a, b
`;

describe("panel directives", () => {
  it("reads each fenced mltrail-panel block with its line, type and options, and says what is wrong", () => {
    const found = parseDirectives(SOURCE);
    expect(found.map((d) => [d.line, d.type])).toEqual([
      [3, "runs"],
      [9, "pie"],
      [13, "compare"],
    ]);
    expect(found[0].options).toEqual({ filter: "metrics.acc > 0.9" });
    expect(found[0].problem).toBeUndefined();
    expect(found[1].problem).toMatch(/type must be one of/);
    expect(found[2].problem).toMatch(/never closed/);
    expect(parseDirectives("no panels here")).toEqual([]);
  });
});

const blocks: EvaluatedBlock[] = [
  { type: "markdown", text: "# Week 49", html: "<h1>Week 49</h1>\n<p>&lt;script&gt;</p>" },
  {
    type: "runs",
    options: { filter: "metrics.acc > 0.9" },
    title: "Runs where metrics.acc > 0.9",
    status: "ok",
    data: { columns: ["id", "name", "status", "metrics.acc"], rows: [["r1", "tuned", "finished", 0.93]], total: 1 },
  },
  {
    type: "metrics",
    options: {},
    title: "acc of a, b",
    status: "ok",
    data: { keys: ["acc"], series: [{ run: "a", key: "acc", steps: [0, 1], values: [0.5, "NaN"] }, { run: "b", key: "acc", steps: [0, 1], values: [0.6, 0.9] }] },
  },
  {
    type: "compare",
    options: {},
    title: "Comparison",
    status: "ok",
    data: { a: { name: "a" }, b: { name: "b" }, rows: [{ key: "params.lr", a: 0.1, b: 0.01, differs: true }] },
  },
  { type: "runs", options: { project: "secret" }, title: "Secret runs", status: "hidden", message: "hidden: this panel shows data you may not see" },
  { type: "samples", options: {}, title: "Samples", status: "error", message: "run 'b' has no table 'val'" },
];

describe("report blocks", () => {
  it("renders markdown from the server's html, each panel type, and hidden and failed panels without data", () => {
    render(
      <MemoryRouter>
        <ReportBlocks blocks={blocks} />
      </MemoryRouter>,
    );
    expect(screen.getByRole("heading", { name: "Week 49" })).toBeInTheDocument();
    expect(document.querySelector("script")).toBeNull();
    const runs = screen.getByTestId("panel-runs");
    expect(within(runs).getByRole("link", { name: "tuned" })).toHaveAttribute("href", "/runs/r1");
    expect(within(runs).getByText("0.93")).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "acc by step" }).querySelectorAll("polyline")).toHaveLength(2);
    expect(within(screen.getByTestId("panel-compare")).getByText("differs")).toBeInTheDocument();
    const hidden = screen.getByTestId("panel-hidden");
    expect(hidden).toHaveTextContent("Secret runs");
    expect(hidden).toHaveTextContent("you may not see");
    expect(hidden.querySelector("table")).toBeNull();
    expect(screen.getByTestId("panel-error")).toHaveTextContent("no table 'val'");
  });
});
