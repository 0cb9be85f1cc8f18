import { render } from "@testing-library/react";
import { heatColor, textOn } from "../lib/colors";
import { DriftHeatmap } from "../components/Heatmap";
import type { ReportWindow } from "../lib/types";

const lum = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b;
};

describe("heatmap colour scale", () => {
  it("runs from near white at 0 through amber at the threshold to red at twice it", () => {
    expect(heatColor(0, 0.1)).toBe("#f7fafc");
    expect(heatColor(0.1, 0.1)).toBe("#fddb8c");
    expect(heatColor(0.2, 0.1)).toBe("#c42d2d");
    expect(heatColor(5, 0.1)).toBe("#c42d2d"); // clamped
    expect(heatColor(null, 0.1)).toBe("#e6e8eb");
    expect(heatColor(NaN, 0.1)).toBe("#e6e8eb");
  });

  it("gets darker as the statistic grows", () => {
    const steps = [0, 0.02, 0.05, 0.08, 0.1, 0.13, 0.16, 0.2].map((v) => lum(heatColor(v, 0.1)));
    steps.slice(1).forEach((l, i) => expect(l).toBeLessThanOrEqual(steps[i]));
    expect(textOn(heatColor(0.2, 0.1))).toBe("#ffffff");
    expect(textOn(heatColor(0, 0.1))).toBe("#1d2330");
  });

  it("draws one cell per feature and window, outlining drifted ones", () => {
    const w = (start: number, stat: number, drifted: boolean): ReportWindow => ({
      start, end: start + 86400, rows: 10, share_drifted: 0, drifted: [], dataset_drifted: false, missing_drifted: [],
      scores: { age: { test: "ks", statistic: stat, threshold: 0.1, drifted } }, missing_rate: {}, violations: {}, performance: {},
    });
    const { container } = render(<DriftHeatmap features={["age", "income"]} windows={[w(0, 0.01, false), w(86400, 0.3, true)]} />);
    const cells = container.querySelectorAll("td.cell");
    expect(cells).toHaveLength(4);
    expect(cells[1].getAttribute("data-drifted")).toBe("1");
    expect((cells[2] as HTMLElement).style.background).toBe("rgb(230, 232, 235)"); // income: no data
  });
});
