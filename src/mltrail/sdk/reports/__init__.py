"""Stakeholder reports from the SDK and the CLI: a client per place, and the HTML and PDF export."""
