"""Rendering of reports into self-contained HTML with inline SVG charts: pure functions of report dicts."""
