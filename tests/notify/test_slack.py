"""Slack alert messages: the payload, and ``send_slack`` to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mltrail.notify import SIGNATURE_HEADER, HttpPoster, alert_summary, send_slack, slack_payload

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
    "segment": "country=PT",
    "value": 0.3123456,
    "comparator": ">",
    "threshold": 0.2,
    "window_start": 1718000000,
    "opened_at": 1718003600,
    "url": "https://mltrail.example/alerts/17",
}

Received = list[tuple[str, bytes, dict[str, str]]]


@pytest.fixture
def slack_server() -> Iterator[tuple[str, Received]]:
    """Answers 200 ``ok`` like Slack, or 400 ``invalid_payload`` on /bad; records every request."""
    got: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append((self.path, body, dict(self.headers.items())))
            answer = b"invalid_payload" if self.path == "/bad" else b"ok"
            self.send_response(400 if self.path == "/bad" else 200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

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


def _fields(payload: dict[str, Any]) -> dict[str, str]:
    section = next(b for b in payload["blocks"] if b["type"] == "section")
    return dict(tuple(f["text"].split("\n", 1)) for f in section["fields"])


def test_the_payload_has_a_header_fields_and_a_link() -> None:
    payload = slack_payload(ALERT)
    assert payload["text"] == (
        "ALERT open: drift.psi on churn:3 feature age segment country=PT (0.312346 &gt; 0.2)"
    )
    header, _, actions = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "PSI drift on age", "emoji": True},
    }
    assert _fields(payload) == {
        "*Monitor*": "churn-prod",
        "*Model version*": "churn:3",
        "*Metric*": "drift.psi",
        "*Feature / segment*": "age / country=PT",
        "*Value vs threshold*": "0.312346 &gt; 0.2",
        "*Window*": "from 2024-06-10 06:13:20 UTC",
        "*State*": "open",
        "*Opened*": "2024-06-10 07:13:20 UTC",
        "*Run*": "r-1",
        "*Alert*": "17",
    }
    assert actions["elements"][0]["url"] == "https://mltrail.example/alerts/17"


def test_the_payload_is_robust_to_missing_and_odd_values() -> None:
    empty = slack_payload({})
    assert empty["text"] == "ALERT: alert"
    assert [b["type"] for b in empty["blocks"]] == ["header"]
    odd = slack_payload(
        {
            "state": "open",
            "title": "x" * 400,
            "metric": "a <@here> & b",
            "value": float("nan"),
            "threshold": None,
            "version": 2,
            "url": "javascript:alert(1)",  # not http(s): dropped, since Slack would refuse the whole message
            "window_start": "2024-06-10",
        }
    )
    assert len(odd["blocks"][0]["text"]["text"]) == 150
    assert [b["type"] for b in odd["blocks"]] == ["header", "section"]
    fields = _fields(odd)
    assert fields["*Metric*"] == "a &lt;@here&gt; &amp; b"  # no mention can be smuggled in
    assert fields["*Model version*"] == "version 2" and fields["*Value vs threshold*"] == "nan"
    assert fields["*Window*"] == "from 2024-06-10"
    json.dumps(odd, allow_nan=False)


def test_the_summary_names_what_it_can() -> None:
    assert (
        alert_summary({"state": "resolved", "title": "Latency", "model": "m"})
        == "ALERT resolved: Latency on m"
    )
    assert alert_summary({"id": 5}) == "ALERT: #5"
    budget = {"kind": "budget", "state": "over", "title": "Budget of churn over budget: 12.00 of 10.00 EUR"}
    assert alert_summary(budget) == "BUDGET over: Budget of churn over budget: 12.00 of 10.00 EUR"
    below = slack_payload({"value": 0.61, "comparator": "below", "threshold": 0.7})
    assert "0.61 &lt; 0.7" in below["text"]


def test_send_slack_posts_the_json(slack_server: tuple[str, Received]) -> None:
    base, got = slack_server
    with HttpPoster(trust_env=False) as poster:
        ok = send_slack(base + "/services/T0/B0/XYZ", ALERT, poster=poster, timeout=2.0)
        bad = send_slack(base + "/bad", ALERT, poster=poster, timeout=2.0)
    assert (ok.status_code, ok.error) == (200, None)
    assert (bad.status_code, bad.error) == (400, None)
    path, body, headers = got[0]
    assert path == "/services/T0/B0/XYZ"
    assert headers["Content-Type"] == "application/json" and SIGNATURE_HEADER not in headers
    assert json.loads(body) == slack_payload(ALERT)
