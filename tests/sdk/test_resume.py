"""``mltrail.init(id=…, resume=True)`` continues a run after a preemption, embedded and through a server."""

from __future__ import annotations

from typing import Any

import pytest

import mltrail
from mltrail.entities import RunStatus
from mltrail.errors import InvalidInputError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings


@pytest.fixture
def server(transport_kind: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("http_server").url if transport_kind == "http" else None


def _stored(settings: Settings, run_id: str) -> Any:
    return embedded_transport(settings).tracking.get_run(run_id)


def test_a_preempted_run_goes_on_where_it_stopped(settings: Settings, server: str | None) -> None:
    first = mltrail.init(
        project="resume", config={"lr": 0.1}, capture=False, settings=settings, server=server
    )
    for step in range(5):
        first.log({"loss": 1.0 / (step + 1)})
    first.finish(RunStatus.CRASHED)  # the job was preempted
    assert _stored(settings, first.id).status == RunStatus.CRASHED

    again = mltrail.init(
        project="resume",
        id=first.id,
        resume=True,
        config={"epochs": 3},
        capture=False,
        settings=settings,
        server=server,
    )
    assert again.id == first.id and again.name == first.name
    again.log({"loss": 0.1})  # no step given: the next one after the last logged
    again.finish()
    run = _stored(settings, first.id)
    assert run.status == RunStatus.FINISHED and run.end_time is not None and run.error is None
    assert run.params == {"lr": 0.1, "epochs": 3}
    assert run.metrics["loss"].last_step == 5 and run.metrics["loss"].count == 6


def test_resume_of_an_unknown_id_starts_that_run(settings: Settings, server: str | None) -> None:
    run = mltrail.init(
        project="resume",
        id="preempted-job-0042",
        resume=True,
        capture=False,
        settings=settings,
        server=server,
    )
    run.log({"x": 1.0}, step=0)
    run.finish()
    assert _stored(settings, "preempted-job-0042").status == RunStatus.FINISHED


def test_resume_needs_a_valid_id_and_the_same_project(settings: Settings) -> None:
    with pytest.raises(InvalidInputError) as missing:
        mltrail.init(project="resume", resume=True, capture=False, settings=settings)
    assert missing.value.field == "id"
    with pytest.raises(InvalidInputError):
        mltrail.init(project="resume", id="../x", capture=False, settings=settings)
    run = mltrail.init(project="a", capture=False, settings=settings)
    run.finish()
    with pytest.raises(InvalidInputError) as other:
        mltrail.init(project="b", id=run.id, resume=True, capture=False, settings=settings)
    assert other.value.field == "project"
