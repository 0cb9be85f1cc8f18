"""A monitoring report dict rendered as one self-contained HTML file: inline CSS and SVG, no scripts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.render.html_charts import drift_over_time, performance_over_time
from mltrail.render.html_estimation import estimated_performance
from mltrail.render.html_sections import feature_table, header, sketch_note, summary_strip
from mltrail.render.html_tables import alerts_table, segments_table, validation_table
from mltrail.render.html_values import as_mapping, as_text, esc

__all__ = ["render_report_html"]

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:#111827;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1320px;margin:0 auto;padding:28px 32px 48px}
.top{background:#0f172a;color:#e2e8f0;border-radius:12px;padding:22px 26px;margin-bottom:18px}
.eyebrow{font-size:11px;letter-spacing:.09em;text-transform:uppercase;color:#94a3b8}
h1{margin:4px 0 14px;font-size:26px;font-weight:650;color:#fff}
.facts{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:18px}
.fact span{display:block;font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:#94a3b8}
.fact b{color:#fff}.fact .dim{color:#94a3b8}
.top code{background:#1e293b;color:#cbd5e1;border-radius:4px;padding:1px 6px;font-size:12px}
.tiles{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:12px;margin-bottom:18px}
.tile{background:#fff;border:1px solid #e5e7eb;border-top:4px solid #cbd5e1;border-radius:10px;
padding:12px 14px}
.tile.bad{border-top-color:#dc2626}.tile.good{border-top-color:#16a34a}.tile.warn{border-top-color:#d97706}
.tile .label{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:#6b7280}
.tile .value{font-size:28px;font-weight:650;margin:2px 0}.tile .value small{font-size:15px;color:#6b7280}
.tile.bad .value{color:#b91c1c}.tile .note{font-size:12px;color:#6b7280}
.up{color:#15803d}.down{color:#b91c1c}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 18px;margin-bottom:18px;
min-width:0}
.card-head{display:flex;align-items:baseline;gap:12px;flex-wrap:wrap;margin-bottom:8px}
h2{margin:0;font-size:16px;font-weight:650}.sub{margin:0;color:#6b7280;font-size:12.5px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}.grid2>.card{margin-bottom:18px}
.chart-box svg{width:100%;height:auto;display:block}
svg text{font-size:11px;font-family:inherit}.mini text{font-size:9px}
svg circle:hover{stroke:#111827;stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:12px;color:#374151;margin:6px 0 2px}
.legend i{display:inline-block;width:18px;height:0;margin-right:6px;vertical-align:middle}
.legend i.box{width:11px;height:11px;border-radius:2px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#6b7280;
font-weight:600;border-bottom:1px solid #e5e7eb;padding:8px 10px;white-space:nowrap}
td{border-bottom:1px solid #f1f5f9;padding:7px 10px;vertical-align:middle}
tr:last-child td{border-bottom:0}
table.features tr.drifted td:first-child{box-shadow:inset 3px 0 0 #dc2626}
td.name{font-weight:600;word-break:break-word}td.num{text-align:right;font-variant-numeric:tabular-nums}
.dim{color:#6b7280;font-size:11.5px;font-weight:400}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:11.5px;font-weight:600;
white-space:nowrap}
.badge.bad{background:#fee2e2;color:#b91c1c}.badge.good{background:#dcfce7;color:#15803d}
.badge.warn{background:#fef3c7;color:#b45309}.badge.muted{background:#f1f5f9;color:#475569}
.warn-text{color:#b45309;font-weight:600}
.top .output-ref{margin:14px 0 0;font-size:13px;color:#cbd5e1}.top .output-ref.warn-text{color:#fbbf24}
.chip{display:inline-block;background:#eef2ff;color:#3730a3;border-radius:6px;padding:1px 7px;
margin:1px 3px 1px 0;font-size:12px}
.meter{display:inline-block;width:90px;height:7px;background:#f1f5f9;border-radius:4px;vertical-align:middle;
overflow:hidden}.meter i{display:block;height:100%;background:#dc2626}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.empty{color:#6b7280;font-style:italic;margin:6px 0}
footer{color:#9ca3af;font-size:12px;text-align:center}
@media (max-width:1000px){.tiles{grid-template-columns:repeat(3,1fr)}.grid2,.facts{grid-template-columns:1fr}}
"""


def render_report_html(report: Mapping[str, Any]) -> str:
    """The report as a complete HTML document. Every key may be missing or None; user text is escaped."""
    report = as_mapping(report)
    name = as_text(as_mapping(report.get("monitor")).get("name")) or "Monitoring report"
    body = "".join(
        [
            header(report),
            summary_strip(report),
            drift_over_time(report),
            performance_over_time(report),
            estimated_performance(report),
            feature_table(report),
            alerts_table(report),
            validation_table(report),
            segments_table(report),
            sketch_note(report),
            "<footer>Generated by mltrail · all times UTC</footer>",
        ]
    )
    css = " ".join(line.strip() for line in _CSS.strip().splitlines())
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(name)} · mltrail monitoring report</title><style>{css}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
