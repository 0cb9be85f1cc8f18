"""From drifted traffic to an e-mail in a real SMTP server and a signed webhook on 127.0.0.1, through the
notifier the SDK and the server wire (``notify.alert_notifier``)."""

from __future__ import annotations

import email
import email.policy
import http.server
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mltrail.notify import alert_notifier, verify_signature
from mltrail.notify import parse_channel as validate_channel
from mltrail.services.container import Services
from mltrail.settings import Settings
from mltrail.stats.profile import profile_batches
from mltrail.store.factory import open_store

DAY = 86400.0
SECRET = "whsec_test"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[list[tuple[dict[str, str], bytes]], int]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got, server.server_address[1]
    server.shutdown()
    server.server_close()


def _traffic(n: int, shift: float, day: int) -> pa.Table:
    rng = np.random.default_rng(day)
    return pa.table(
        {
            "age": rng.normal(40 + shift, 10, n),
            "prediction": rng.integers(0, 2, n),
            "timestamp": np.full(n, 1_764_547_200.0 + day * DAY),
        }
    )


def test_an_alert_is_mailed_and_posted_signed(
    tmp_path: Path, smtp: tuple[Inbox, int], receiver: tuple[list[tuple[dict[str, str], bytes]], int]
) -> None:
    inbox, smtp_port = smtp
    posted, http_port = receiver
    store = open_store(f"sqlite:///{tmp_path / 'mltrail.db'}")
    settings = Settings(
        home=tmp_path,
        smtp_url=f"smtp://127.0.0.1:{smtp_port}?from=alerts@mltrail.test",
        alert_webhook_secret=SECRET,
    )
    notifier = alert_notifier(settings)
    services = Services(settings, store=store, notifier=notifier)
    reference = profile_batches(_traffic(5000, 0.0, 0).drop_columns(["timestamp"]))
    mon = services.monitoring.create_monitor(
        f"m-{uuid.uuid4().hex[:6]}",
        project="p",
        reference=reference,
        reference_source="test",
        features=["age"],
    )
    channels = ["email:oncall@example.com", f"webhook:http://127.0.0.1:{http_port}/hook"]
    services.alerts.add_rule(
        mon,
        metric="drift.score",
        feature="age",
        above=0.1,
        notify=channels,
        validate_channel=validate_channel,
    )
    started = time.perf_counter()
    services.monitoring.ingest(mon.name, _traffic(2000, 15.0, 1))
    assert time.perf_counter() - started < 5  # the sending happens off the ingesting thread
    assert services.alerts.flush(timeout=30)
    (mail,) = inbox.messages
    assert (
        mail["To"] == "oncall@example.com" and "drift.score" in mail["Subject"] and "age" in mail["Subject"]
    )
    assert mon.name in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (headers, body), *_ = posted
    assert verify_signature(SECRET, headers["X-Mltrail-Signature"], body)
    assert headers["X-Mltrail-Event"] == "alert.open"
    (alert,) = services.alerts.list(mon)
    log = store.list_alert_notifications(alert.id)
    assert sorted(n.ok for n in log) == [True, True]
    services.close()
    notifier.close()
    store.close()
