"""A team server with accounts posts only to public destinations, unless its configuration allows more."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from mltrail.errors import InvalidInputError
from mltrail.notify import HttpPoster
from mltrail.notify.destinations import DestinationPolicy
from mltrail.settings import Settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://172.16.3.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_addresses_that_are_not_public_are_refused_by_default(url: str) -> None:
    policy = DestinationPolicy.from_settings(Settings())
    with pytest.raises(InvalidInputError, match="not allowed") as info:
        policy.check_url(url)
    assert info.value.field == "url"
    with pytest.raises(InvalidInputError) as channel:
        policy.check_channel(f"Slack:{url}")
    assert channel.value.field == "notify"


def test_public_addresses_and_allowed_ones_pass() -> None:
    policy = DestinationPolicy.from_settings(Settings(webhook_allow=("127.0.0.0/8", "relay.internal")))
    assert policy.resolve("https://93.184.216.34/hook") == ["93.184.216.34"]
    assert policy.resolve("http://127.0.0.1:9/hook") == ["127.0.0.1"]
    policy.check_channel("email:ana@example.com")  # e-mail goes through the SMTP server: not checked here
    denied = DestinationPolicy.from_settings(Settings(webhook_deny=("93.184.216.0/24",)))
    with pytest.raises(InvalidInputError):
        denied.check_url("https://93.184.216.34/hook")


def test_a_bad_setting_names_it() -> None:
    with pytest.raises(InvalidInputError) as info:
        DestinationPolicy.from_settings(Settings(webhook_allow=("10.0.0.0/33",)))
    assert info.value.field == "MLTRAIL_WEBHOOK_ALLOW"


class _Receiver(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Receiver.hosts.append(self.headers.get("Host", ""))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_the_poster_refuses_at_send_time_and_connects_to_the_checked_address(
    receiver: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://hooks.example.test:{receiver}/x"
    # The name resolves to loopback: refused, and nothing is sent.
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver))],
    )
    with HttpPoster(trust_env=False, policy=DestinationPolicy.from_settings(Settings())) as poster:
        refused = poster.post(url, b"{}", {}, timeout=5)
    assert refused.status_code is None and "not allowed" in (refused.error or "")
    assert _Receiver.hosts == []
    # Allowed by name: the POST goes to the address that was checked, with the original Host header.
    allowed = DestinationPolicy.from_settings(Settings(webhook_allow=("hooks.example.test",)))
    with HttpPoster(trust_env=False, policy=allowed) as poster:
        sent = poster.post(url, b"{}", {}, timeout=5)
    assert sent.status_code == 204, sent.error
    assert _Receiver.hosts == [f"hooks.example.test:{receiver}"]
