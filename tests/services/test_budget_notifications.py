"""Budget alerts that reach someone: a run whose finish pushes its project past the budget's alert share is
sent, once a month, to the budget's channels (a signed webhook on a real receiver on 127.0.0.1), through
the notifier and the composition root the SDK and the server use; a failing channel never fails the
finish, and every delivery is in the audit log."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail.entities import RunStatus
from mltrail.errors import InvalidInputError
from mltrail.notify import alert_notifier, verify_signature
from mltrail.services.container import Services
from mltrail.services.insights.costs import month_of, month_start
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

SECRET = "whsec_budget"
HOUR = 3600.0


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers ``status``."""

    def __init__(self, status: int) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        got = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(204)
    yield made
    made.close()


@pytest.fixture
def refusing() -> Iterator[Receiver]:
    made = Receiver(500)
    yield made
    made.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'mltrail.db'}")
    yield opened
    opened.close()


@pytest.fixture
def services(tmp_path: Path, store: SqlStore) -> Iterator[Services]:
    settings = Settings(home=tmp_path, alert_webhook_secret=SECRET)
    notifier = alert_notifier(settings)
    built = Services(settings, store=store, notifier=notifier, base_url="http://mltrail.test/")
    yield built
    built.close()
    notifier.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _start(tracking: TrackingService, project: str, at: float) -> str:
    run_id = uuid.uuid4().hex
    tracking.start_run(run_id=run_id, project=project, name=run_id[:6], user="ada", start_time=at)
    return run_id


def _budget_events(store: SqlStore, action: str, project: str) -> list[Any]:
    return [e for e in store.query_audit_events(action=action) if e.project == project]


def test_a_run_finishing_past_the_share_notifies_once_a_month(
    services: Services, store: SqlStore, receiver: Receiver
) -> None:
    project = f"p-{uuid.uuid4().hex[:6]}"
    begin = month_start(time.time()) + 60  # this month, whatever day it is: runs of hours end later
    tracking, insights = services.tracking, services.insights
    insights.set_price("cpu", 1.0, "EUR", user="root")  # a run without a core count counts one core
    first = _start(tracking, project, begin)
    insights.set_budget(project, 10.0, alert_share=0.5, notify=[f"webhook:{receiver.url}"], user="root")

    tracking.finish_run(first, end_time=begin + 6 * HOUR)  # 6 of 10 EUR: past the 50% share
    assert insights.flush()
    assert len(receiver.posts) == 1
    headers, body = receiver.posts[0]
    assert verify_signature(SECRET, headers["X-Mltrail-Signature"], body)
    assert headers["X-Mltrail-Event"] == "budget.alert"
    sent = json.loads(body)
    assert sent["action"] == "budget.alert"
    payload = sent["alert"]
    assert {k: payload[k] for k in ("kind", "project", "period", "state", "currency")} == {
        "kind": "budget",
        "project": project,
        "period": month_of(time.time()),
        "state": "alert",
        "currency": "EUR",
    }
    assert (payload["spent"], payload["amount"], payload["share"], payload["alert_share"]) == (
        6.0,
        10.0,
        0.6,
        0.5,
    )
    assert payload["url"] == "http://mltrail.test/insights?tab=cost"
    assert project in payload["title"] and "6.00 of 10.00 EUR" in payload["title"]

    # Later finishes this month, even past the whole budget, and reads, send nothing more.
    second = _start(tracking, project, begin + HOUR)
    tracking.finish_run(second, status=RunStatus.FAILED, end_time=begin + 6 * HOUR)
    (status,) = insights.budgets([project])
    assert (status["state"], status["alerted"]) == ("over", True)
    insights.cost([project])
    assert insights.flush()
    assert len(receiver.posts) == 1
    assert len(_budget_events(store, "budget_alert", project)) == 1
    (delivery,) = _budget_events(store, "budget_notification", project)
    assert (delivery.method, delivery.status) == ("EVENT", 204)
    assert delivery.client == f"webhook:{receiver.url} sent (204)"


def test_a_read_still_raises_the_alert_and_sends_it(
    services: Services, store: SqlStore, receiver: Receiver
) -> None:
    """Spend recorded before the budget existed: the first read finds it past the share, and sends."""
    project = f"p-{uuid.uuid4().hex[:6]}"
    begin = month_start(time.time()) + 60
    services.insights.set_price("cpu", 1.0, "EUR", user="root")
    run = _start(services.tracking, project, begin)
    services.tracking.finish_run(run, end_time=begin + 9 * HOUR)
    services.insights.set_budget(project, 10.0, notify=[f"webhook:{receiver.url}"], user="root")
    assert services.insights.flush() and receiver.posts == []
    (status,) = services.insights.budgets([project])
    assert status["state"] == "alert"
    services.insights.budgets([project])
    assert services.insights.flush()
    assert [json.loads(b)["alert"]["share"] for _, b in receiver.posts] == [0.9]


def test_a_refusing_channel_never_fails_the_finish_and_is_logged(
    services: Services, store: SqlStore, refusing: Receiver
) -> None:
    project = f"p-{uuid.uuid4().hex[:6]}"
    begin = month_start(time.time()) + 60
    closed = f"webhook:http://127.0.0.1:{_closed_port()}/hook"
    services.insights.set_price("cpu", 1.0, "EUR", user="root")
    run = _start(services.tracking, project, begin)
    services.insights.set_budget(project, 1.0, notify=[f"webhook:{refusing.url}", closed], user="root")
    services.tracking.finish_run(run, end_time=begin + 2 * HOUR)  # returns: nothing is raised
    assert services.tracking.get_run(run).status == RunStatus.FINISHED
    assert services.insights.flush()
    assert len(refusing.posts) == 1
    deliveries = {e.client.split(" ", 1)[0]: e for e in _budget_events(store, "budget_notification", project)}
    assert set(deliveries) == {f"webhook:{refusing.url}", closed}
    assert deliveries[f"webhook:{refusing.url}"].status == 500
    assert "failed (500)" in deliveries[f"webhook:{refusing.url}"].client
    assert deliveries[closed].status == 0
    assert deliveries[closed].client.startswith(f"{closed} failed: ")
    assert len(_budget_events(store, "budget_alert", project)) == 1


def test_a_notifier_that_raises_never_fails_the_finish(tmp_path: Path, store: SqlStore) -> None:
    def broken(spec: str, payload: Any) -> tuple[bool, int | None, str | None]:
        raise RuntimeError("the mail relay is on fire")

    services = Services(Settings(home=tmp_path), store=store, notifier=broken)
    try:
        project = f"p-{uuid.uuid4().hex[:6]}"
        begin = month_start(time.time()) + 60
        services.insights.set_price("cpu", 1.0, "EUR", user="root")
        run = _start(services.tracking, project, begin)
        services.insights.set_budget(project, 1.0, notify=["email:ops@example.com"], user="root")
        services.tracking.finish_run(run, end_time=begin + 2 * HOUR)
        assert services.insights.flush()
        (delivery,) = _budget_events(store, "budget_notification", project)
        assert delivery.client == "email:ops@example.com failed: RuntimeError: the mail relay is on fire"
    finally:
        services.close()


def test_channels_are_checked_stored_canonical_and_shown_redacted(tmp_path: Path, store: SqlStore) -> None:
    checked: list[str] = []

    class Policy:
        def check_url(self, url: str) -> None:
            raise AssertionError("budgets have no registry webhooks")

        def check_channel(self, spec: str) -> None:
            checked.append(spec)
            if "10.0.0.1" in spec:
                raise InvalidInputError("the destination is not allowed", field="notify")

    services = Services(Settings(home=tmp_path), store=store, destinations=Policy())
    try:
        project = f"p-{uuid.uuid4().hex[:6]}"
        _start(services.tracking, project, time.time())
        slack = " Slack:https://hooks.slack.com/services/T0/B0/SECRET"
        made = services.insights.set_budget(
            project, 5.0, notify=[slack, "email: a@example.com, b@example.com"], user="root"
        )
        canonical = (
            "slack:https://hooks.slack.com/services/T0/B0/SECRET",
            "email:a@example.com,b@example.com",
        )
        assert made.channels == canonical
        assert checked == list(canonical)
        assert store.list_budgets([project])[0].channels == canonical
        (status,) = services.insights.budgets([project])
        assert status["channels"] == ["slack:https://hooks.slack.com/…", "email:a@example.com,b@example.com"]
        for bad in (["sms:+15550100"], ["webhook:ftp://x"], ["webhook:http://10.0.0.1/x"], [3]):
            with pytest.raises(InvalidInputError) as caught:
                services.insights.set_budget(project, 5.0, notify=bad, user="root")  # type: ignore[arg-type]
            assert caught.value.field == "notify"
        with pytest.raises(InvalidInputError) as caught:
            services.insights.set_budget(project, 5.0, notify="email:a@example.com", user="root")
        assert caught.value.field == "notify"
        # Replacing the budget without channels clears them.
        assert services.insights.set_budget(project, 5.0, user="root").channels == ()
        assert store.list_budgets([project])[0].channels == ()
    finally:
        services.close()


def test_a_finish_without_any_budget_reads_nothing_more(tmp_path: Path, store: SqlStore) -> None:
    """With no budget anywhere the finish does not look the run up (one small read of the budgets)."""
    services = Services(Settings(home=tmp_path), store=store)
    looked: list[str] = []
    real = store.get_run

    def spy(run_id: str) -> Any:
        looked.append(run_id)
        return real(run_id)

    try:
        run = _start(services.tracking, "solo", time.time())
        store.get_run = spy  # type: ignore[method-assign]
        services.tracking.finish_run(run)
        assert looked == []
    finally:
        store.get_run = real  # type: ignore[method-assign]
        services.close()
