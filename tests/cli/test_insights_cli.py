"""``mltrail insights`` on the embedded store at 80 columns: the price table, a budget, cost, value,
cadence and scorecard, readable and never wider than the terminal."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from typer.testing import CliRunner, Result

from mltrail.cli.main import app
from mltrail.settings import Settings
from mltrail.store.factory import open_store

if TYPE_CHECKING:
    from conftest import ActAs, Invoke, MakeRun

CONTEXT = {
    "environment": {"cpu": {"count": 4}, "gpus": [{"name": "NVIDIA A100-SXM4-80GB"}]},
    "git": {"commit": "a", "dirty": False},
}


def _cli(home: Path, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--dir", str(home), *args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines()), result.output
    return result


def test_insights_commands_at_80_columns(home: Path) -> None:
    store = open_store(Settings(home=home).db_url)
    start = time.time() - 5 * 3600
    for project in ("vision-with-a-rather-long-project-name", "churn"):
        run_id = uuid.uuid4().hex
        store.create_run(
            run_id=run_id,
            project=project,
            name="a-long-run-name-for-the-table",
            user="ada",
            start_time=start,
            context=CONTEXT,
        )
        store.update_run(run_id, end_time=start + 4 * 3600)
    store.close()
    unpriced = _cli(home, "insights", "cost").output
    assert "no price table yet" in unpriced and "insights price cpu" in unpriced  # not a bare "0.00"
    _cli(home, "insights", "price", "cpu", "0.04", "--currency", "EUR")
    _cli(home, "insights", "price", "gpu:NVIDIA A100-SXM4-80GB", "2.5", "--currency", "EUR")
    assert "gpu:NVIDIA A100-SXM4-80GB" in _cli(home, "insights", "prices").output
    _cli(home, "insights", "budget", "churn", "12", "--alert-share", "0.5")
    cost = _cli(home, "insights", "cost", "--since", "7d").output
    # per run: 4 h x (4 cores x 0.04 + 1 GPU x 2.5) = 10.64; two runs 21.28
    assert "21.28 EUR" in cost and "10.64" in cost
    assert "alert" in cost  # churn spent 10.64 of 12
    store = open_store(Settings(home=home).db_url)
    tiny_id = uuid.uuid4().hex
    store.create_run(run_id=tiny_id, project="tiny", name="r", user="ada", start_time=start, context=CONTEXT)
    store.update_run(tiny_id, end_time=start + 2)  # 2 s: 0.0015 EUR
    store.close()
    tiny = _cli(home, "insights", "cost", "--project", "tiny").output
    assert "<0.01 EUR" in tiny and "0.00 EUR" not in tiny  # spent, if not a cent
    as_json = orjson.loads(_cli(home, "insights", "cost", "--json", "--project", "churn").output)
    assert as_json["total"]["cost"] == 10.64
    budgets = _cli(home, "insights", "budgets").output
    assert "churn" in budgets and "89%" in budgets
    assert "3 runs" in _cli(home, "insights", "value").output
    assert "no model has reached production yet" in _cli(home, "insights", "cadence").output
    scorecard = _cli(home, "insights", "scorecard").output
    assert "ML maturity" in scorecard and "versioned" in scorecard
    _cli(home, "insights", "price", "cpu", "--delete")
    assert "cpu " not in _cli(home, "insights", "prices").output


SLACK = "slack:https://hooks.example.test/services/T0/B0/SECRET"


def test_a_budget_with_channels_on_the_embedded_store(make_run: MakeRun, invoke: Invoke) -> None:
    make_run(project="churn")
    made = invoke(
        "insights", "budget", "churn", "100", "--notify", SLACK, "--notify", "email:ops@example.com"
    )
    assert made.exit_code == 0, made.output
    assert "sent to slack:https://hooks.example.test/…, email:ops@example.com" in made.stdout
    listed = invoke("insights", "budgets", "--json")
    (budget,) = orjson.loads(listed.stdout)
    assert budget["channels"] == ["slack:https://hooks.example.test/…", "email:ops@example.com"]
    table = invoke("insights", "budgets").stdout
    assert "email:ops@example.com" in table and "SECRET" not in made.stdout + listed.stdout + table
    bad = invoke("insights", "budget", "churn", "100", "--notify", "sms:+15550100")
    # As for alert rules: exit 2, the spec and what is accepted (the error's field is notify).
    assert bad.exit_code == 2 and "notification channel 'sms:+15550100'" in bad.stderr


def test_a_budget_with_channels_on_a_team_server(act_as: ActAs, make_run: MakeRun, invoke: Invoke) -> None:
    project = f"budget-{uuid.uuid4().hex[:6]}"
    act_as("bob")  # a maintainer
    make_run(project=project)
    made = invoke("insights", "budget", project, "100", "--notify", SLACK)
    assert made.exit_code == 0, made.output
    assert "sent to slack:https://hooks.example.test/…" in made.stdout and "SECRET" not in made.stdout
    listed = orjson.loads(invoke("insights", "budgets", "--project", project, "--json").stdout)
    assert listed[0]["channels"] == ["slack:https://hooks.example.test/…"]
    # The server with accounts refuses a destination on its own network, naming the option.
    inside = invoke("insights", "budget", project, "100", "--notify", "webhook:http://127.0.0.1:9/hook")
    assert inside.exit_code == 2 and "not allowed" in inside.stderr, inside.output
