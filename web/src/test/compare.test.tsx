import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { compareRows } from "../lib/compare";
import { CompareTable } from "../pages/Compare";
import type { Run } from "../lib/types";

const runs = [{ id: "a", name: "a" }, { id: "b", name: "b" }, { id: "c", name: "c" }] as Run[];

describe("compare", () => {
  it("marks a row as differing when any value (or its absence) differs", () => {
    const rows = compareRows([
      { lr: 0.1, opt: "adam", seed: 1, nan: NaN },
      { lr: 0.1, opt: "sgd", seed: 1, nan: NaN },
      { lr: 0.1, seed: 1, nan: NaN, cfg: { a: 1 } },
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.key, r.differs]))).toEqual({ cfg: true, lr: false, nan: false, opt: true, seed: false });
  });

  it("highlights differing rows and hides equal ones with 'only differences'", () => {
    const rows = compareRows([{ lr: 0.1, opt: "adam" }, { lr: 0.1, opt: "sgd" }, { lr: 0.1, opt: "adam" }]);
    const { container, rerender } = render(
      <MemoryRouter><CompareTable title="Params" runs={runs} rows={rows} onlyDiff={false} /></MemoryRouter>,
    );
    const trs = [...container.querySelectorAll("tbody tr")];
    expect(trs.map((t) => [t.firstChild!.textContent, t.classList.contains("differs")])).toEqual([["lr", false], ["opt", true]]);
    rerender(<MemoryRouter><CompareTable title="Params" runs={runs} rows={rows} onlyDiff /></MemoryRouter>);
    expect([...container.querySelectorAll("tbody tr")].map((t) => t.firstChild!.textContent)).toEqual(["opt"]);
    expect(container.textContent).toContain("1 of 2 differ");
  });
});
