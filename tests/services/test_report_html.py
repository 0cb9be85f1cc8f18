"""The HTML monitoring report: structure, escaping, missing values, size; run as a script, writes a sample."""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mltrail.render.html_charts import score_value
from mltrail.render.html_report import render_report_html
from mltrail.render.svg_charts import Series, line_chart, nice_ticks

EVIL = "<script>alert(1)</script>"
START = 1764547200.0  # 2025-12-01 UTC
DAY = 86400.0
NUMERIC = [
    "age",
    "income",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "logins_30d",
    "sessions_7d",
    "avg_session_min",
    "days_since_login",
    "discount_pct",
    "late_payments",
    "data_gb",
    "devices",
    "referrals",
    "nps_score",
    "credit_score",
]
CATEGORICAL = {
    "country": ["DE", "FR", "ES", "IT", "NL", "other"],
    "plan": ["basic", "standard", "premium"],
    "device": ["android", "ios", "web"],
    "channel": ["organic", "ads", "partner", "referral"],
    "payment": ["card", "paypal", "invoice"],
    "contract": ["monthly", "yearly", "two-year"],
    "gender": ["f", "m", "x"],
    "segment_tier": ["bronze", "silver", "gold", "platinum"],
}
RULES = ["age: not null", "age: range [18, 99]", "country: allowed categories", "income: not null"]


def _wasserstein_norm(ref: np.ndarray, cur: np.ndarray) -> float:
    grid = np.linspace(0.005, 0.995, 100)
    return float(np.mean(np.abs(np.quantile(ref, grid) - np.quantile(cur, grid))) / np.std(ref))


def _js(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        keep = a > 0
        return float(np.sum(a[keep] * np.log2(a[keep] / m[keep])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def _column(name: str, kind: str, test: str, stat: float, miss_ref: float, miss_cur: float) -> dict[str, Any]:
    return {
        "column": name,
        "kind": kind,
        "test": test,
        "statistic": stat,
        "p_value": None,
        "threshold": 0.1,
        "drifted": stat >= 0.1,
        "scores": {test: stat},
        "n_ref": 100000,
        "n_cur": 1500000,
        "missing_rate_ref": miss_ref,
        "missing_rate_cur": miss_cur,
        "missing_delta": miss_cur - miss_ref,
        "missing_p_value": 0.001 if abs(miss_cur - miss_ref) >= 0.05 else 0.5,
        "missing_drifted": abs(miss_cur - miss_ref) >= 0.05,
        "new_categories": [],
        "exact": False,
        "note": None,
    }


def sample_report(*, windows: int = 30, evil: bool = False, seed: int = 7) -> dict[str, Any]:
    """25 features over daily windows; ``age`` and ``country`` drift from window 20, income loses values
    from window 25 and accuracy drops with the drift. ``evil`` names a feature and a segment EVIL."""
    rng = np.random.default_rng(seed)
    names = NUMERIC + list(CATEGORICAL)
    last = EVIL if evil else names[-1]
    names[-1] = last
    ref_num = {n: rng.normal(40 + 5 * k, 8 + k, 4000) for k, n in enumerate(NUMERIC)}
    ref_cat = {n: rng.dirichlet(np.full(len(c), 4.0)) for n, c in CATEGORICAL.items()}
    ref_cat[last] = ref_cat.pop("segment_tier")
    cats = {**CATEGORICAL, last: CATEGORICAL["segment_tier"]}
    pooled: dict[str, list[np.ndarray]] = {n: [] for n in names}
    rows: list[dict[str, Any]] = []
    for w in range(windows):
        drift = w >= 20
        scores, missing, drifted = {}, {}, []
        for n in names:
            if n in ref_num:
                cur = rng.normal(
                    ref_num[n].mean() + (0.6 * ref_num[n].std() if drift and n == "age" else 0),
                    ref_num[n].std(),
                    1500,
                )
                stat, test = _wasserstein_norm(ref_num[n], cur), "wasserstein"
            else:
                p = ref_cat[n]
                if drift and n == "country":
                    p = np.eye(len(p))[-1] * 0.6 + p * 0.4
                cur = rng.multinomial(1500, p) / 1500
                stat, test = _js(ref_cat[n], cur), "jensenshannon"
            pooled[n].append(cur)
            scores[n] = {"test": test, "statistic": stat, "threshold": 0.1, "drifted": stat >= 0.1}
            drifted += [n] if stat >= 0.1 else []
            missing[n] = 0.09 if n == "income" and w >= 25 else 0.01
        accuracy = float(0.93 - (0.05 if drift else 0.0) + rng.normal(0, 0.006))
        rows.append(
            {
                "start": START + w * DAY,
                "end": START + (w + 1) * DAY,
                "rows": int(rng.integers(45000, 55000)),
                "share_drifted": len(drifted) / len(names),
                "drifted": drifted,
                "scores": scores,
                "missing_rate": missing,
                "violations": {
                    "age: not null": 0,
                    "age: range [18, 99]": int(rng.integers(30, 60)) if drift else 0,
                    "country: allowed categories": int(rng.integers(0, 3)),
                    "income: not null": 4500 if w >= 25 else 0,
                },
                "performance": {
                    "accuracy": accuracy,
                    "f1": accuracy - 0.03,
                    "roc_auc": accuracy + 0.02,
                    "labeled": int(rng.integers(900, 1400)),
                },
            }
        )
    columns, distributions = [], {}
    for n in names:
        if n in ref_num:
            cur = np.concatenate(pooled[n])
            edges = np.quantile(ref_num[n], np.linspace(0, 1, 11))
            ref_h = np.histogram(ref_num[n], edges)[0] / len(ref_num[n])
            cur_h = np.histogram(np.clip(cur, edges[0], edges[-1]), edges)[0] / len(cur)
            distributions[n] = {
                "kind": "numeric",
                "edges": edges.tolist(),
                "reference": ref_h.tolist(),
                "current": cur_h.tolist(),
            }
            columns.append(
                _column(
                    n,
                    "numeric",
                    "wasserstein",
                    _wasserstein_norm(ref_num[n], cur),
                    0.01,
                    0.025 if n == "income" else 0.01,
                )
            )
        else:
            cur_p = np.mean(pooled[n], axis=0)
            distributions[n] = {
                "kind": "categorical",
                "categories": cats[n],
                "reference": ref_cat[n].tolist(),
                "current": cur_p.tolist(),
            }
            columns.append(_column(n, "categorical", "jensenshannon", _js(ref_cat[n], cur_p), 0.0, 0.0))
    columns[1]["missing_rate_cur"], columns[1]["missing_drifted"] = 0.09, True  # income, for the sample
    drifted_cols = [c["column"] for c in columns if c["drifted"]]
    seg_evil = EVIL if evil else "device=web"
    return {
        "monitor": {
            "name": "churn-prod",
            "model": "churn",
            "version": 3,
            "project": "crm",
            "run_id": "ab12cd34ef5678901234567890abcdef",
            "granularity": "day",
        },
        "period": {"start": START, "end": START + windows * DAY, "windows": windows},
        "reference": {"rows": 100000, "source": "train dataset churn-train v2"},
        "current_rows": sum(r["rows"] for r in rows),
        "overall": {
            "columns": columns,
            "drifted_columns": drifted_cols,
            "share_drifted": len(drifted_cols) / len(columns),
            "dataset_drifted": len(drifted_cols) / len(columns) >= 0.5,
            "drift_share": 0.5,
            "missing_drifted_columns": ["income"],
            "unreferenced_columns": [],
            "rows_ref": 100000,
            "rows_cur": 1500000,
        },
        "windows": rows,
        "distributions": distributions,
        "performance": {
            "task": "classification",
            "training": {"accuracy": 0.94, "f1": 0.91, "roc_auc": 0.96},
            "overall": {"accuracy": 0.905, "f1": 0.875, "roc_auc": 0.925, "labeled": 34000},
        },
        "segments": {
            "country=DE": {"drifted_columns": ["age", "country"], "share_drifted": 0.08, "rows": 310000},
            "age < 25": {"drifted_columns": ["age", "plan", "device"], "share_drifted": 0.12, "rows": 180000},
            seg_evil: {"drifted_columns": [], "share_drifted": 0.0, "rows": 420000},
        },
        "validation": {"rules": RULES, "totals": {r: sum(w["violations"][r] for w in rows) for r in RULES}},
        "alerts": [
            {
                "id": 4,
                "title": "drift.wasserstein above 0.1 on age",
                "state": "open",
                "metric": "drift.wasserstein",
                "feature": "age",
                "segment": None,
                "value": 0.61,
                "threshold": 0.1,
                "opened_at": START + 20.1 * DAY,
                "window_start": START + 20 * DAY,
            },
            {
                "id": 5,
                "title": "drift.jensenshannon above 0.1 on country",
                "state": "acknowledged",
                "metric": "drift.jensenshannon",
                "feature": "country",
                "segment": "country=DE",
                "value": 0.14,
                "threshold": 0.1,
                "opened_at": START + 20.2 * DAY,
                "window_start": START + 20 * DAY,
            },
            {
                "id": 6,
                "title": "accuracy below 0.9",
                "state": "open",
                "metric": "performance.accuracy",
                "feature": None,
                "segment": None,
                "value": 0.878,
                "threshold": 0.9,
                "opened_at": START + 21.5 * DAY,
                "window_start": START + 21 * DAY,
            },
            {
                "id": 2,
                "title": "missing rate above 5% on income",
                "state": "resolved",
                "metric": "missing_rate",
                "feature": "income",
                "segment": None,
                "value": 0.09,
                "threshold": 0.05,
                "opened_at": START + 3 * DAY,
                "window_start": START + 3 * DAY,
            },
        ],
    }


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return sample_report()


def test_sample_renders_every_part(report: dict[str, Any]) -> None:
    html = render_report_html(report)
    assert html.startswith("<!doctype html>")
    assert html.rstrip().endswith("</html>")
    for title in [
        "churn-prod",
        "Drift over time",
        "Feature drift scores",
        "Performance over time",
        "Features",
        "Segments",
        "Alerts",
        "Validation",
        "Dataset drift",
        "Accuracy now",
    ]:
        assert title in html, title
    for column in report["overall"]["columns"]:
        assert f'<td class="name">{column["column"]}' in html
    # A chart per card (2 drift + performance), two per feature (trend, distribution), one per rule.
    assert html.count("<svg") == html.count("</svg>") == 3 + 2 * 25 + len(RULES)
    assert "run ab12cd34ef56…" in html and "train dataset churn-train v2" in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_drifted_features_come_first_with_badges(report: dict[str, Any]) -> None:
    html = render_report_html(report)
    table = html[html.index('<table class="features">') :]
    assert table.index(">age<") < table.index(">income<") < table.index(">tenure_months<")
    assert table.count('class="badge bad">drifted<') == len(report["overall"]["drifted_columns"]) >= 2


def test_report_json_round_trip_renders_the_same(report: dict[str, Any]) -> None:
    assert render_report_html(json.loads(json.dumps(report))) == render_report_html(report)


def test_user_strings_are_escaped() -> None:
    html = render_report_html(sample_report(evil=True))
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # feature row, tooltips, segment


def test_monitor_and_model_names_are_escaped() -> None:
    html = render_report_html({"monitor": {"name": EVIL, "model": EVIL, "run_id": EVIL, "project": '"><b>'}})
    assert "<script" not in html and '"><b>' not in html


def test_nan_none_and_inf_show_a_dash(report: dict[str, Any]) -> None:
    broken = copy.deepcopy(report)
    age = broken["overall"]["columns"][0]
    age.update(statistic=math.nan, threshold=None, missing_rate_ref=math.inf, kind=None, test=None)
    broken["overall"]["share_drifted"] = math.nan
    broken["windows"][3]["share_drifted"] = None
    broken["windows"][4]["scores"]["age"]["statistic"] = math.inf
    broken["windows"][5]["performance"] = {"accuracy": math.nan, "f1": None}
    broken["windows"][6]["violations"] = None
    broken["distributions"]["age"]["reference"][2] = math.nan
    broken["distributions"]["age"]["edges"][0] = -math.inf
    broken["alerts"][0].update(value=None, opened_at=math.nan, threshold="high")
    broken["segments"]["broken"] = None
    broken["performance"]["overall"]["accuracy"] = math.inf
    html = render_report_html(broken)
    assert "—" in html
    assert not re.search(r"\b(nan|NaN|inf|Infinity|None)\b", html)


@pytest.mark.parametrize(
    "minimal",
    [
        {},
        {"monitor": {"name": "x"}},
        {"monitor": None, "overall": None, "windows": None, "alerts": None, "segments": None},
        {"windows": [{}], "distributions": {"a": {}}, "overall": {"columns": [{"column": "a"}]}},
        {
            "windows": [],
            "distributions": {"a": {"kind": "numeric", "edges": [], "reference": [1], "current": []}},
        },
        {
            "validation": {"rules": ["r"]},
            "alerts": [{}],
            "segments": {"s": {}},
            "performance": {"training": {}},
        },
    ],
)
def test_minimal_reports_render(minimal: dict[str, Any]) -> None:
    html = render_report_html(minimal)
    assert html.startswith("<!doctype html>") and "</html>" in html
    assert html.count("<svg") == html.count("</svg>")


def test_empty_report_says_what_is_missing() -> None:
    html = render_report_html({"monitor": {"name": "x"}})
    assert "<h1>x</h1>" in html
    assert "No windows in this period" in html and "No alerts in this period" in html


def test_p_value_tests_show_their_p_value_and_direction() -> None:
    column = {"column": "a", "kind": "numeric", "test": "ks", "statistic": 0.21, "p_value": 0.003,
              "threshold": 0.05, "drifted": True}  # fmt: skip
    window = {"scores": {"a": {"test": "ks", "statistic": 0.21, "p_value": 0.003, "threshold": 0.05}}}
    html = render_report_html({"overall": {"columns": [column]}, "windows": [window, window]})
    assert "p &lt; 0.05" in html and "p = 0.003" in html
    assert score_value(window["scores"]["a"]) == 0.003
    assert score_value({"test": "wasserstein", "statistic": 0.2, "p_value": None}) == 0.2


def test_full_size_report_stays_small(report: dict[str, Any]) -> None:
    assert len(render_report_html(report).encode("utf-8")) < 1_000_000


def test_nice_ticks_cover_the_range() -> None:
    assert nice_ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    ticks = nice_ticks(0.853, 0.962)
    assert ticks[0] <= 0.853 and ticks[-1] >= 0.962 and len(ticks) <= 7
    assert nice_ticks(2.0, 2.0)[-1] > 2.0 and nice_ticks(math.nan, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_line_chart_breaks_lines_at_gaps() -> None:
    svg = line_chart([Series("s", [1.0, 2.0, None, 3.0, 4.0], "#000")], ["a", "b", "c", "d", "e"])
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4


if __name__ == "__main__":
    out = Path("/tmp/mltrail-report-sample.html")
    out.write_text(render_report_html(sample_report()), encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
