"""Webhook signatures and ``HttpPoster`` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mltrail.notify import SIGNATURE_HEADER, HttpPoster, sign, verify_signature

SECRET = "whsec_test"
BODY = b'{"action":"version_created"}'


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == expected
    assert SIGNATURE_HEADER == "X-Mltrail-Signature"


@pytest.mark.parametrize(
    ("header", "valid"),
    [
        ("t=1000,v1={sig}", True),
        (" t=1000 , v1={sig} ", True),
        ("t=1000,v1=00ff,v1={sig}", True),  # one of several signatures (a rotated secret) is enough
        ("v1={sig},t=1000", True),
        ("t=1000,v1=00ff", False),
        ("t=1000", False),
        ("v1={sig}", False),
        ("t=abc,v1={sig}", False),
        ("t=1000;v1={sig}", False),
        ("t=1001,v1={sig}", False),  # the timestamp is signed too
        ("", False),
    ],
)
def test_verify_signature_parses_the_header_strictly(header: str, valid: bool) -> None:
    text = header.format(sig=sign(SECRET, 1000, BODY))
    assert verify_signature(SECRET, text, BODY, now=1000.0) is valid


def test_verify_signature_refuses_old_and_future_timestamps() -> None:
    header = f"t=1000,v1={sign(SECRET, 1000, BODY)}"
    assert verify_signature(SECRET, header, BODY, now=1300.0)
    assert not verify_signature(SECRET, header, BODY, now=1300.5)
    assert not verify_signature(SECRET, header, BODY, now=699.0)
    assert verify_signature(SECRET, header, BODY, tolerance_s=1e9, now=5e8)
    assert not verify_signature(SECRET, None, BODY)


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, bytes, dict[str, str]]], threading.Event]]:
    """A server answering /ok 201, /redirect 302 and /slow after a pause; it records what it got."""
    got: list[tuple[str, bytes, dict[str, str]]] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append((self.path, body, dict(self.headers.items())))
            if self.path == "/slow":
                release.wait(2.0)
            try:
                self.send_response(302 if self.path == "/redirect" else 201)
                if self.path == "/redirect":
                    self.send_header("Location", "/ok")
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"hello")
            except OSError:  # the client gave up waiting
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", got, release
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_the_poster_reports_status_codes_and_does_not_follow_redirects(
    server: tuple[str, list[tuple[str, bytes, dict[str, str]]], threading.Event],
) -> None:
    base, got, _ = server
    with HttpPoster(trust_env=False) as poster:
        ok = poster.post(base + "/ok", BODY, {"X-Test": "1"}, timeout=2.0)
        moved = poster.post(base + "/redirect", BODY, {}, timeout=2.0)
    assert (ok.status_code, ok.error) == (201, None) and ok.duration_ms > 0
    assert (moved.status_code, moved.error) == (302, None)
    assert [(path, body) for path, body, _ in got] == [("/ok", BODY), ("/redirect", BODY)]
    assert got[0][2]["X-Test"] == "1"


def test_the_poster_turns_timeouts_and_refusals_into_errors(
    server: tuple[str, list[tuple[str, bytes, dict[str, str]]], threading.Event],
) -> None:
    base, _, _ = server
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with HttpPoster(trust_env=False) as poster:
        slow = poster.post(base + "/slow", BODY, {}, timeout=0.2)
        refused = poster.post(f"http://127.0.0.1:{closed_port}/", BODY, {}, timeout=1.0)
        malformed = poster.post("not a url", BODY, {}, timeout=1.0)
    assert slow.status_code is None and slow.error is not None and "ReadTimeout" in slow.error
    assert 150 < slow.duration_ms < 1500
    assert refused.status_code is None and refused.error is not None and "ConnectError" in refused.error
    assert malformed.status_code is None and malformed.error
