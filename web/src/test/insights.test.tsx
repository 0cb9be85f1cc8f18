import { configure, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import InsightsPage, { type Cadence, type Cost } from "../pages/Insights";

configure({ asyncUtilTimeout: 5000 });

const sum = { runs: 2, hours: 3, cpu_hours: 12, gpu_hours: 2, cost: 10, unpriced_hours: 0 };
const cost: Cost = {
  currency: "EUR",
  total: { ...sum, runs: 3, cost: 15 },
  per_week: [
    { ...sum, week_start: 1_767_571_200, cost: 10 },
    { ...sum, week_start: 1_768_176_000, cost: 5, runs: 1 },
  ],
  per_project: [{ ...sum, project: "churn" }],
  per_user: [{ ...sum, user: "ada" }],
  top_runs: [{ run_id: "a".repeat(32), name: "big-run", project: "churn", user: "ada", hours: 2, cost: 8 }],
  budgets: [{ project: "churn", period: "2026-01", amount: 20, currency: "EUR", spent: 15, share: 0.75, state: "alert", channels: ["slack:https://hooks.slack.com/…", "email:ml@example.com"] }],
};
const cadence: Cadence[] = [
  {
    model: "churn",
    metric: "accuracy",
    current_version: 3,
    age_days: 12,
    intervals_days: [30, 20],
    points: [
      { version: 1, age_days: 2, value: 0.9, kind: "realized", training: 0.9, fell: false },
      { version: 1, age_days: 20, value: 0.8, kind: "realized", training: 0.9, fell: true },
      { version: 2, age_days: 5, value: 0.88, kind: "estimated", training: 0.9, fell: false },
    ],
    suggested_retraining: { days: 20, enough_data: true, reason: "median age at which 1 version(s) fell below" },
  },
];

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => {
  global.fetch = vi.fn(async (url: RequestInfo | URL) => {
    const u = String(url);
    if (u.includes("/insights/cost")) return json(cost);
    if (u.includes("/insights/cadence")) return json(cadence);
    if (u.includes("/insights/scorecard"))
      return json({
        overall: 70,
        level: "managed",
        dimensions: [
          { dimension: "monitored", score: 50, figure: "1 of 2 models in production have a monitor with an alert rule", evidence: [{ model: "churn", monitors: ["churn-prod"], with_rules: ["churn-prod"] }] },
          { dimension: "reviewed", score: 100, figure: "1 of 1 moves", evidence: [{ model: "churn", version: 2, via_request: true }] },
        ],
      });
    return json({ error: { type: "NotFoundError", message: "no" } });
  }) as typeof fetch;
});

function renderAt(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/insights" element={<InsightsPage />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe("insights page", () => {
  it("shows cost per week as bars scaled to the costliest week, the costliest runs and budgets", async () => {
    renderAt("/insights");
    expect(await screen.findByTestId("cost-total")).toHaveTextContent("15.00 EUR");
    const weeks = screen.getAllByTestId("cost-week");
    expect(weeks).toHaveLength(2);
    const bar = (row: HTMLElement) => (row.querySelector("td div") as HTMLElement).style.width;
    expect(bar(weeks[0])).toBe("100%");
    expect(bar(weeks[1])).toBe("50%");
    expect(screen.getByRole("link", { name: "big-run" })).toHaveAttribute("href", `/runs/${"a".repeat(32)}`);
    expect(screen.getByTestId("budget")).toHaveTextContent("15.00 EUR of 20.00 EUR");
    expect(screen.getByTestId("budget-channels")).toHaveTextContent("→ slack:https://hooks.slack.com/…, email:ml@example.com");
  });

  it("plots cadence points and says the suggested interval", async () => {
    renderAt("/insights");
    await screen.findByTestId("cost-total");
    fireEvent.click(screen.getByRole("link", { name: "Retraining cadence" }));
    expect(await screen.findByTestId("cadence-suggestion")).toHaveTextContent("Retrain every 20 days");
    const points = screen.getAllByTestId("cadence-point");
    expect(points).toHaveLength(3);
    expect(points[1]).toHaveAttribute("fill", "#c33"); // fell below the training figure
    expect(points[2]).toHaveAttribute("fill", "none"); // estimated, not realized
  });

  it("links each score to the models, versions and monitors behind it", async () => {
    renderAt("/insights?tab=scorecard");
    expect(await screen.findByText("ML maturity: 70/100 (managed)")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "churn-prod" })).toHaveAttribute("href", "/monitoring/churn-prod");
    expect(screen.getByRole("link", { name: "churn:2" })).toHaveAttribute("href", "/registry/churn/versions/2");
  });
});
