"""Stakeholder reports: markdown and live panels, saved per project and evaluated when read."""
