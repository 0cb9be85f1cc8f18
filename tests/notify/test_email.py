"""Alert e-mails: settings from URLs, the message, and ``send_email`` against a real aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mltrail.errors import InvalidInputError
from mltrail.notify import EmailSettings, email_message, send_email, validate_address

ALERT: dict[str, Any] = {
    "id": 17,
    "title": "PSI drift on age",
    "state": "open",
    "monitor": "churn-prod",
    "model": "churn",
    "version": 3,
    "run_id": "r-1",
    "metric": "drift.psi",
    "feature": "age",
    "segment": None,
    "value": 0.3123456,
    "comparator": "gt",
    "threshold": 0.2,
    "window_start": 1718000000,
    "opened_at": 1718003600.5,
    "url": "https://mltrail.example/monitors/churn-prod/alerts/17",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Inbox:
    """A handler that keeps every message; ``refuse_data`` / ``refuse_rcpt`` make it answer 550 instead."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    refuse_data: bool = False
    refuse_rcpt: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            return "550 5.7.1 rejected by policy"
        content = envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 OK queued"


def start_smtp(inbox: Inbox, **smtp_parameters: Any) -> tuple[Controller, int]:
    port = free_port()
    # server_hostname: otherwise aiosmtpd looks up this machine's FQDN for its greeting.
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, server_hostname="mx.test", **smtp_parameters
    )
    controller.start()
    return controller, port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller, port = start_smtp(inbox)
    yield inbox, port
    controller.stop()


def settings(port: int, **overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "alerts@mltrail.test",
        "timeout": 3,
    }
    return EmailSettings(**(values | overrides))


# -- settings ---------------------------------------------------------------------------------------------


def test_from_url_reads_every_part() -> None:
    s = EmailSettings.from_url("smtp://ana%40x.test:p%3Ass@mail.test:2525?from=alerts@x.test&starttls=1")
    assert (s.host, s.port, s.username, s.password) == ("mail.test", 2525, "ana@x.test", "p:ss")
    assert (s.use_tls, s.use_ssl, s.sender, s.timeout) == (True, False, "alerts@x.test", 10.0)
    assert "p:ss" not in repr(s)


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl", "sender"),
    [
        ("smtp://relay.test?from=a@x.test", 25, False, False, "a@x.test"),
        ("smtp://relay.test?from=a@x.test&starttls=true", 587, True, False, "a@x.test"),
        ("smtps://bot@x.test:pw@relay.test", 465, False, True, "bot@x.test"),  # the user is the sender
        ("SMTPS://relay.test:1465/?from=a@x.test&timeout=2.5", 1465, False, True, "a@x.test"),
    ],
)
def test_from_url_defaults(url: str, port: int, tls: bool, ssl: bool, sender: str) -> None:
    s = EmailSettings.from_url(url)
    assert (s.port, s.use_tls, s.use_ssl, s.sender) == (port, tls, ssl, sender)


@pytest.mark.parametrize(
    "url",
    [
        "http://relay.test?from=a@x.test",
        "smtp://?from=a@x.test",
        "smtp://relay.test",  # no sender
        "smtp://relay.test?from=not-an-address",
        "smtp://relay.test?from=a@x.test&startls=1",  # misspelt: refused, never silently plain
        "smtp://relay.test?from=a@x.test&starttls=maybe",
        "smtps://relay.test?from=a@x.test&starttls=1",
        "smtp://relay.test:99999?from=a@x.test",
        "smtp://relay.test:abc?from=a@x.test",
        "smtp://relay.test/path?from=a@x.test",
        "smtp://relay.test?from=a@x.test&timeout=soon",
        "smtp://relay.test?from=a@x.test&timeout=0",
    ],
)
def test_from_url_refuses_malformed_urls(url: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        EmailSettings.from_url(url)
    assert info.value.field == "smtp_url"


@pytest.mark.parametrize(
    "address",
    [
        "ana",
        "ana@",
        "@x.test",
        "ana@x..test",
        "ana@@x.test",
        "ana@x.test\r\nBcc: eve@evil.test",
        "ana@x.test\n",
        "ana x@x.test",
        "Ana <ana@x.test>",
        "ana@x.test,bob@x.test",
        "",
    ],
)
def test_malformed_and_injected_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_address(address)
    assert info.value.field == "to"
    with pytest.raises(InvalidInputError) as info:
        email_message(ALERT, sender="alerts@x.test", to=[address])
    assert info.value.field == "to"


def test_recipients_must_be_a_non_empty_list() -> None:
    cases: list[list[str] | str] = [[], "ana@x.test"]
    for to in cases:
        with pytest.raises(InvalidInputError) as info:
            email_message(ALERT, sender="alerts@x.test", to=to)
        assert info.value.field == "to"


# -- the message ------------------------------------------------------------------------------------------


def test_the_message_has_subject_fields_and_an_html_alternative() -> None:
    msg = email_message(ALERT, sender="alerts@x.test", to=["ana@x.test", "bob@x.test", "ana@x.test"])
    assert msg["Subject"] == "[mltrail] ALERT open: drift.psi on churn:3 feature age"
    assert (msg["From"], msg["To"]) == ("alerts@x.test", "ana@x.test, bob@x.test")
    assert msg["Message-ID"].endswith("@x.test>")
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text, markup = plain.get_content(), html.get_content()
    for expected in ("PSI drift on age", "churn-prod", "churn:3", "drift.psi", "0.312346 > 0.2", "open"):
        assert expected in text
    assert "from 2024-06-10 06:13:20 UTC" in text
    assert "Open in mltrail: https://mltrail.example/monitors/churn-prod/alerts/17" in text
    assert "0.312346 &gt; 0.2" in markup and "href='https://mltrail.example/" in markup


def test_the_message_survives_missing_and_hostile_values() -> None:
    msg = email_message({}, sender="alerts@x.test", to=["ana@x.test"])
    assert msg["Subject"] == "[mltrail] ALERT: alert"
    hostile = {"state": "open\r\nBcc: eve@evil.test", "title": "<script>x</script>", "metric": "m\nX: y"}
    msg = email_message(hostile, sender="alerts@x.test", to=["ana@x.test"])
    assert "\n" not in msg["Subject"] and msg["Bcc"] is None
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and "<script>" not in html.get_content()


# -- sending through a real SMTP server -------------------------------------------------------------------


def test_send_email_delivers_to_a_real_smtp_server(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    result = send_email(settings(port), ["ana@x.test", "bob@x.test"], ALERT)
    assert (result.ok, result.error) == (True, None) and result.duration_ms > 0
    [(envelope, msg)] = inbox.messages
    assert envelope.mail_from == "alerts@mltrail.test"
    assert envelope.rcpt_tos == ["ana@x.test", "bob@x.test"]
    assert msg["Subject"] == "[mltrail] ALERT open: drift.psi on churn:3 feature age"
    assert (msg["From"], msg["To"]) == ("alerts@mltrail.test", "ana@x.test, bob@x.test")
    plain = msg.get_body(preferencelist=("plain",))
    assert plain is not None and "Value vs threshold: 0.312346 > 0.2" in plain.get_content()


def test_a_rejecting_server_is_an_error_not_an_exception(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    inbox.refuse_data = True
    result = send_email(settings(port), ["ana@x.test"], ALERT)
    assert not result.ok and result.error == "SMTP 550: 5.7.1 rejected by policy"
    inbox.refuse_data, inbox.refuse_rcpt = False, {"ana@x.test"}
    refused = send_email(settings(port), ["ana@x.test"], ALERT)
    assert (
        not refused.ok and refused.error == "all recipients refused: ana@x.test (550 5.1.1 no such mailbox)"
    )
    # One refused recipient of two: the other got it, but the alert did not reach everyone.
    partial = send_email(settings(port), ["ana@x.test", "bob@x.test"], ALERT)
    assert (
        not partial.ok and partial.error == "some recipients refused: ana@x.test (550 5.1.1 no such mailbox)"
    )
    assert [env.rcpt_tos for env, _ in inbox.messages] == [["bob@x.test"]]


def test_an_unreachable_server_is_an_error() -> None:
    result = send_email(settings(free_port()), ["ana@x.test"], ALERT)
    assert not result.ok and result.error is not None and "Connection refused" in result.error


def test_starttls_that_the_server_does_not_offer_is_a_clear_error(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    result = send_email(settings(port, use_tls=True), ["ana@x.test"], ALERT)
    assert not result.ok
    assert result.error == f"the SMTP server at 127.0.0.1:{port} does not offer STARTTLS"
    assert inbox.messages == []


def test_smtps_against_a_plain_server_is_an_error(smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    result = send_email(settings(port, use_ssl=True), ["ana@x.test"], ALERT)
    assert not result.ok and result.error is not None and "SSL" in result.error


def test_login_with_the_configured_user() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then answers a failure with 535 itself.
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    inbox = Inbox()
    # AUTH over plain TCP only because this is loopback in a test; real servers require TLS first.
    controller, port = start_smtp(inbox, authenticator=authenticator, auth_require_tls=False)
    try:
        good = send_email(settings(port, username="bot", password="s3cret"), ["ana@x.test"], ALERT)
        bad = send_email(settings(port, username="bot", password="wrong"), ["ana@x.test"], ALERT)
    finally:
        controller.stop()
    assert good.ok and len(inbox.messages) == 1
    assert not bad.ok and bad.error is not None and bad.error.startswith("SMTP 535")
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before giving up.
    assert seen[0] == (b"bot", b"s3cret") and set(seen[1:]) == {(b"bot", b"wrong")}
