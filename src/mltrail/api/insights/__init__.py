"""``/api/v1/insights``: compute cost and budgets, value metrics, retraining cadence, maturity scorecard."""
