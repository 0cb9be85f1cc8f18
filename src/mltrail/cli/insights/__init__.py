"""``mltrail insights``: compute cost and budgets, value metrics, retraining cadence, maturity scorecard."""
