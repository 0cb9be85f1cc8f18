"""Channel specs and ``send_alert`` to a real HTTP server and a real SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mltrail.errors import InvalidInputError
from mltrail.notify import (
    SIGNATURE_HEADER,
    Channel,
    EmailSettings,
    HttpPoster,
    parse_channel,
    send_alert,
    slack_payload,
    verify_signature,
)

SECRET = "whsec_alerts"
ALERT: dict[str, Any] = {
    "id": 9,
    "state": "open",
    "monitor": "churn-prod",
    "model": "churn",
    "version": 3,
    "metric": "drift.psi",
    "feature": "age",
    "value": 0.31,
    "comparator": ">",
    "threshold": 0.2,
}

Received = list[tuple[str, bytes, dict[str, str]]]


# -- parsing ----------------------------------------------------------------------------------------------


def test_parse_the_three_kinds() -> None:
    hook = parse_channel(" webhook:https://ops.example/hooks/mltrail?x=1 ", secret=SECRET)
    assert (hook.kind, hook.url, hook.secret) == ("webhook", "https://ops.example/hooks/mltrail?x=1", SECRET)
    slack = parse_channel("slack:https://hooks.slack.com/services/T0/B0/XYZ")
    assert (slack.kind, slack.url, slack.secret) == (
        "slack",
        "https://hooks.slack.com/services/T0/B0/XYZ",
        None,
    )
    mail = parse_channel("EMAIL: ana@example.com, bob@example.com,ana@example.com")
    assert (mail.kind, mail.recipients) == ("email", ("ana@example.com", "bob@example.com"))


def test_labels_and_reprs_hide_credentials() -> None:
    hook = parse_channel("webhook:https://ops.example:8443/hooks/a?token=abc", secret=SECRET)
    slack = parse_channel("slack:https://hooks.slack.com/services/T0/B0/XYZ")
    assert hook.label == "webhook:https://ops.example:8443/hooks/a"
    assert slack.label == str(slack) == "slack:https://hooks.slack.com/…"
    assert repr(slack) == "Channel('slack:https://hooks.slack.com/…')"
    assert SECRET not in repr(hook) and "token" not in repr(hook) and "XYZ" not in repr(slack)
    assert parse_channel("email:ana@example.com").label == "email:ana@example.com"


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "https://ops.example/hook",  # no kind
        "sms:+351900000000",
        "webhook:",
        "webhook:ftp://ops.example/hook",
        "webhook:https://",
        "webhook:https://ops.example/a b",
        "webhook:https://ops.example:port/",
        "slack:hooks.slack.com/services/T0",
        "slack:https://hooks.slack.com/\r\nX-Evil: 1",
        "email:",
        "email:ana",
        "email:ana@example.com,",
        "email:ana@example.com\nbcc:eve@evil.test",
        "email:Ana <ana@example.com>",
        "webhook:https://ops.example/" + "a" * 2100,
    ],
)
def test_bad_specs_are_invalid_input_on_notify(spec: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_channel(spec)
    assert info.value.field == "notify"


# -- sending ----------------------------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[tuple[str, Received]]:
    """Answers 204, or 500 on /fail; records every request."""
    got: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append((self.path, body, dict(self.headers.items())))
            self.send_response(500 if self.path == "/fail" else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", got
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def poster() -> Iterator[HttpPoster]:
    with HttpPoster(trust_env=False) as p:
        yield p


def test_a_webhook_alert_is_signed_like_registry_webhooks(
    http_server: tuple[str, Received], poster: HttpPoster
) -> None:
    base, got = http_server
    channel = parse_channel(f"webhook:{base}/hook", secret=SECRET)
    report = send_alert(channel, ALERT, poster=poster, timeout=2.0, delivery_id="9-open\n")
    assert (report.ok, report.status_code, report.error) == (True, 204, None)
    assert report.channel is channel and report.duration_ms > 0
    path, body, headers = got[0]
    assert path == "/hook"
    assert headers["X-Mltrail-Event"] == "alert.open"
    assert headers["X-Mltrail-Delivery"] == "9-open_"  # sanitised: it is a header value
    assert headers["User-Agent"] == "mltrail-webhooks"
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(SECRET, headers[SIGNATURE_HEADER], body)
    assert not verify_signature("whsec_other", headers[SIGNATURE_HEADER], body)
    payload = json.loads(body)
    assert payload["action"] == "alert.open" and payload["alert"] == ALERT


def test_the_send_time_secret_wins_and_a_missing_one_is_a_failed_report(
    http_server: tuple[str, Received], poster: HttpPoster
) -> None:
    base, got = http_server
    channel = parse_channel(f"webhook:{base}/hook", secret="whsec_old")
    send_alert(channel, {"state": "resolved"}, poster=poster, secret=SECRET, timeout=2.0)
    assert verify_signature(SECRET, got[0][2][SIGNATURE_HEADER], got[0][1])
    assert got[0][2]["X-Mltrail-Event"] == "alert.resolved"
    unsigned = send_alert(parse_channel(f"webhook:{base}/hook"), ALERT, poster=poster)
    assert (unsigned.ok, unsigned.error) == (False, "no signing secret for this webhook channel")
    assert len(got) == 1


def test_slack_and_failures_over_http(http_server: tuple[str, Received], poster: HttpPoster) -> None:
    base, got = http_server
    slack = send_alert(parse_channel(f"slack:{base}/services/T0"), ALERT, poster=poster, timeout=2.0)
    assert (slack.ok, slack.status_code) == (True, 204)
    assert json.loads(got[0][1]) == slack_payload(ALERT) and SIGNATURE_HEADER not in got[0][2]
    failed = send_alert(parse_channel(f"slack:{base}/fail"), ALERT, poster=poster, timeout=2.0)
    assert (failed.ok, failed.status_code, failed.error) == (False, 500, None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    refused = send_alert(
        parse_channel(f"webhook:http://127.0.0.1:{closed}/", secret=SECRET), ALERT, poster=poster, timeout=1.0
    )
    assert refused.ok is False and refused.status_code is None and "ConnectError" in (refused.error or "")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def test_an_email_alert_goes_through_a_real_smtp_server(poster: HttpPoster) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="mx.test")
    controller.start()
    try:
        settings = EmailSettings.from_url(f"smtp://127.0.0.1:{port}?from=alerts@mltrail.test&timeout=3")
        channel = parse_channel("email:ana@example.com,bob@example.com")
        report = send_alert(channel, ALERT, poster=poster, email_settings=settings)
        unconfigured = send_alert(channel, ALERT, poster=poster)
        # A hand-built channel skips parse_channel's checks; a bad address still fails cleanly.
        hand_built = send_alert(
            Channel("email", recipients=("x\n@y",)), ALERT, poster=poster, email_settings=settings
        )
    finally:
        controller.stop()
    assert (report.ok, report.status_code, report.error) == (True, None, None)
    [msg] = inbox.messages
    assert msg["Subject"] == "[mltrail] ALERT open: drift.psi on churn:3 feature age"
    assert msg["To"] == "ana@example.com, bob@example.com"
    assert (unconfigured.ok, unconfigured.error) == (False, "e-mail is not configured (MLTRAIL_SMTP_URL)")
    assert hand_built.ok is False and "not an e-mail address" in (hand_built.error or "")
