"""Team insights (issue 17, part 3): compute cost and budgets, value metrics, retraining cadence and the
maturity scorecard, computed from the store's grouped aggregates."""
