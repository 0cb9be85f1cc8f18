"""A run's ``run_facts`` row (hardware, code state) built from its context, as ``create_run`` and
``update_context`` write it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.entities.insights import run_facts

__all__ = ["fact_row"]


def fact_row(run_id: str, context: Mapping[str, Any]) -> dict[str, Any]:
    facts = run_facts(context)
    return {
        "run_id": run_id,
        "cpu_count": facts.cpu_count,
        "gpu_count": facts.gpu_count,
        "gpu_kind": facts.gpu_kind,
        "code_state": facts.code_state,
    }
