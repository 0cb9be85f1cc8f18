"""Team insights' entities: what a run's context says of its hardware and code, prices, budgets, and the
aggregate rows the store returns for cost, value and scorecard figures (issue 17, part 3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CODE_STATES",
    "Budget",
    "MonitorCoverage",
    "Price",
    "ProductionEvent",
    "ReproCounts",
    "RunFacts",
    "RunUsage",
    "UsageCell",
    "gpu_price_kind",
    "run_facts",
]

# A run's code as captured: a clean commit, a commit with its diff stored, a dirty tree without the diff,
# or no git at all. The first two can be rebuilt.
CODE_STATES = ("clean", "diff", "dirty", "none")


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What insights read of a run's captured context, kept in ``run_facts`` (aggregates never parse JSON)."""

    cpu_count: int | None
    gpu_count: int
    gpu_kind: str | None  # the first GPU's name, e.g. "NVIDIA A100-SXM4-40GB"
    code_state: str  # one of CODE_STATES


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def run_facts(context: Mapping[str, Any]) -> RunFacts:
    """A run's hardware and code state from its context (``sdk/capture``); missing parts are None/0/"none"."""
    env = context.get("environment")
    env = env if isinstance(env, Mapping) else {}
    cpu = env.get("cpu")
    cpu_count = _int(cpu.get("count")) if isinstance(cpu, Mapping) else None
    gpus = env.get("gpus")
    gpu_list = [g for g in gpus if isinstance(g, Mapping)] if isinstance(gpus, list) else []
    gpu_kind = None
    if gpu_list:
        name = gpu_list[0].get("name")
        gpu_kind = str(name)[:200] if name else None
    git = context.get("git")
    code_state = "none"
    if isinstance(git, Mapping) and git.get("commit"):
        if not git.get("dirty"):
            code_state = "clean"
        elif git.get("patch_artifact"):
            code_state = "diff"
        else:
            code_state = "dirty"
    return RunFacts(cpu_count=cpu_count, gpu_count=len(gpu_list), gpu_kind=gpu_kind, code_state=code_state)


def gpu_price_kind(gpu_kind: str | None) -> str:
    """The price-table kind of a GPU: ``gpu:<name>``, priced as plain ``gpu`` when that name has no price."""
    return f"gpu:{gpu_kind}" if gpu_kind else "gpu"


@dataclass(frozen=True, slots=True)
class Price:
    """What one hour of a hardware kind costs: ``cpu`` (a logical core), ``gpu`` (any GPU) or
    ``gpu:<name>`` (that model of GPU)."""

    kind: str
    per_hour: float
    currency: str
    updated_at: float
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class Budget:
    """A project's compute budget per calendar month (UTC); an alert when ``alert_share`` of it is spent.
    ``alerted_period`` is the last month (``YYYY-MM``) whose alert was raised, so it is raised once.
    ``channels`` are the notification specs (canonical form, secrets included) the alert is sent to."""

    project: str
    amount: float
    currency: str
    alert_share: float
    alerted_period: str | None
    updated_at: float
    updated_by: str | None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageCell:
    """Runs of one GPU kind (None: no GPU or unnamed) summed over the group asked for (project, user and
    ISO week, each None when not grouped by): wall hours, core hours and GPU hours."""

    project: str | None
    user: str | None
    week_start: float | None  # Monday 00:00 UTC
    gpu_kind: str | None
    runs: int
    hours: float
    cpu_hours: float  # wall hours x logical cores (runs whose core count is unknown count 1)
    gpu_hours: float  # wall hours x GPUs


@dataclass(frozen=True, slots=True)
class RunUsage:
    """One run's hours and its cost at the prices the query was given."""

    run_id: str
    project: str
    name: str
    user: str | None
    start_time: float
    gpu_kind: str | None
    hours: float
    cpu_hours: float
    gpu_hours: float
    cost: float


@dataclass(frozen=True, slots=True)
class ProductionEvent:
    """A model version moved to production: when, whether through an approved request, when registered."""

    model: str
    project: str
    version: int
    time: float
    via_request: bool
    registered_at: float | None
    run_id: str | None


@dataclass(frozen=True, slots=True)
class ReproCounts:
    """A project's runs counted by what they captured: code that can be rebuilt (a clean commit or the
    diff), dataset versions, both, and the environment (hardware known)."""

    project: str
    runs: int
    first_run: float | None
    code: int
    data: int
    both: int
    environment: int


@dataclass(frozen=True, slots=True)
class MonitorCoverage:
    """A model's monitors: how many, how many with an active alert rule, and its alerts' opening times."""

    model: str
    project: str
    monitors: tuple[str, ...]
    monitors_with_rules: tuple[str, ...]
    alerts_opened: tuple[float, ...]
