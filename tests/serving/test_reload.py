"""Moves without downtime: a running ``mltrail serve`` picks up an alias move and a spec change by polling,
loads the new models beside the old and swaps them in with no request failed, and every answered row
still reaches the monitor."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from gateway_world import Home, frame, serve
from test_gateway import _counter
from traffic import Traffic, ready, wait

import mltrail


def test_an_alias_move_and_a_spec_change_are_picked_up_with_no_request_failed(home: Home) -> None:
    settings = home.settings
    mltrail.models.transition("churn", 1, to="live", settings=settings)
    mltrail.monitor("churn@production", name="churn-live", settings=settings).close()
    spec = {"primary": "churn@live", "monitor": "churn-live"}
    gateway = serve(home, "live-dep", spec, "--poll", "0.2")
    try:
        assert ready(gateway)["models"] == {"primary": "churn:1"}
        with Traffic(gateway) as traffic:
            wait(lambda: traffic.answered >= 20, "traffic")
            mltrail.models.transition("churn", 2, to="live", settings=settings)  # the alias moves
            wait(lambda: ready(gateway)["models"] == {"primary": "churn:2"}, "the alias move")
            wait(lambda: traffic.models["churn:2"] >= 20, "answers from churn:2")
            changed = {**spec, "fallback": [{"rule": "constant", "value": 0}], "timeout_ms": 5000}
            mltrail.deployments.update("live-dep", changed, comment="a budget", settings=settings)
            wait(lambda: ready(gateway)["version"] == 2, "the spec change")
            seen = traffic.answered
            wait(lambda: traffic.answered >= seen + 20, "answers after the spec change")
        assert traffic.failures == []
        assert traffic.models["churn:1"] >= 20 and traffic.models["churn:2"] >= 40
        page = ready(gateway)
        assert page["reload"]["reloads"] == 2 and page["reload"]["refusals"] == 0
        assert "refused" not in page["reload"]
        assert _counter(gateway.metrics(), "mltrail_gateway_reloads_total", outcome="ok") == 2
        # The recorder was carried over: every answered row is in the monitor, none lost or doubled.
        mon = mltrail.monitor("churn@production", name="churn-live", settings=settings)
        try:
            wait(lambda: mon.report(last="1d")["current_rows"] >= traffic.answered, "the monitor's rows", 60)
            assert mon.report(last="1d")["current_rows"] == traffic.answered
        finally:
            mon.close()
    finally:
        gateway.stop()


def test_without_polling_the_spec_is_read_once(home: Home) -> None:
    mltrail.models.transition("churn", 1, to="frozen", settings=home.settings)
    gateway = serve(home, "frozen-dep", {"primary": "churn@frozen"}, "--poll", "0")
    try:
        mltrail.models.transition("churn", 2, to="frozen", settings=home.settings)
        time.sleep(1.0)  # several polls' worth, were it polling
        page = ready(gateway)
        assert page["models"] == {"primary": "churn:1"} and "reload" not in page
    finally:
        gateway.stop()


@pytest.mark.slow
def test_each_worker_polls_on_its_own(home: Home) -> None:
    mltrail.models.transition("churn", 1, to="workers", settings=home.settings)
    spec = {"primary": "churn@workers"}
    # Two workers importing and loading at once start slowly on a busy 2-core machine.
    gateway = serve(home, "workers-dep", spec, "--workers", "2", "--poll", "0.2", ready_timeout=180)
    try:
        mltrail.models.transition("churn", 2, to="workers", settings=home.settings)
        pids: set[int] = set()

        def both_moved() -> bool:
            page = ready(gateway)
            if page["models"]["primary"] == "churn:2":
                pids.add(page["pid"])
            return len(pids) == 2

        wait(both_moved, "both workers serving churn:2", timeout=60)
    finally:
        gateway.stop()


class Hook:
    """A webhook receiver on 127.0.0.1 keeping every JSON body posted to it."""

    def __init__(self) -> None:
        import http.server
        import json

        bodies: list[dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.bodies = bodies
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_alert_rule_rolls_the_deployment_back_and_the_gateway_picks_it_up(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = home.settings
    monkeypatch.setenv("MLTRAIL_ALERT_WEBHOOK_SECRET", "s3cret")  # webhooks are signed: the gateway's env
    mltrail.monitor("churn@production", name="churn-guarded", settings=settings).close()
    first = {"primary": "churn:1", "monitor": "churn-guarded", "auto_rollback": True}
    hook = Hook()
    gateway = serve(home, "guarded-dep", first, "--poll", "0.2")  # version 1: the known-good model
    try:
        mltrail.deployments.update(
            "guarded-dep", {**first, "primary": "churn:2"}, comment="new", settings=settings
        )
        wait(lambda: ready(gateway)["models"] == {"primary": "churn:2"}, "version 2")
        version = ready(gateway)["version"]
        mon = mltrail.monitor("churn@production", name="churn-guarded", settings=settings)
        try:
            rule = mon.add_alert(
                "rows", above=5, notify=[f"webhook:{hook.url}"], action="rollback:guarded-dep"
            )
            assert rule.action == "rollback:guarded-dep"
        finally:
            mon.close()
        with Traffic(gateway) as traffic:
            # The gateway's rows reach the monitor, the rule fires, the deployment is rolled back, and the
            # gateway's poll swaps the known-good model in: all while the traffic goes on.
            wait(lambda: ready(gateway)["models"] == {"primary": "churn:1"}, "the rollback", 60)
            seen = traffic.answered
            wait(lambda: traffic.answered >= seen + 10, "answers after the rollback")
        assert traffic.failures == []
        assert ready(gateway)["version"] == version + 1
        latest = mltrail.deployments.history("guarded-dep", settings=settings)[0]
        assert latest.action == "rolled_back" and latest.user == "mltrail-alerts"
        assert "automatic rollback: alert" in latest.comment and "churn-guarded" in latest.comment
        assert latest.details["reason"]["rule"] == rule.id
        wait(lambda: bool(hook.bodies), "the notification")
        sent = hook.bodies[0]["alert"]
        assert sent["metric"] == "rows" and sent["rule_action"]["outcome"] == "rolled_back"
        assert sent["rule_action"]["version"] == version + 1
    finally:
        gateway.stop()
        hook.close()


def test_a_request_whose_body_arrives_after_a_swap_is_answered_by_the_new_gateway(home: Home) -> None:
    """The route took the gateway before reading the body: a body slower than the old gateway's grace was
    answered by a gateway already closed (its monitor recorder gone). It now takes the one serving once
    the body is in."""
    import json
    import socket
    from urllib.parse import urlsplit

    settings = home.settings
    mltrail.models.transition("churn", 1, to="slow", settings=settings)
    gateway = serve(home, "slow-dep", {"primary": "churn@slow"}, "--poll", "0.2")
    try:
        assert ready(gateway)["models"] == {"primary": "churn:1"}
        row = {k: float(v) for k, v in frame(1, seed=3).iloc[0].items()}
        body = json.dumps({"rows": [row]}).encode()
        parts = urlsplit(gateway.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
            head = (
                f"POST /v1/deployments/slow-dep/predict HTTP/1.1\r\nHost: {parts.hostname}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            sock.sendall(head.encode() + body[:5])
            mltrail.models.transition("churn", 2, to="slow", settings=settings)
            wait(lambda: ready(gateway)["models"] == {"primary": "churn:2"}, "the alias move")
            time.sleep(2.5)  # past the old gateway's grace: it is closed by now
            sock.sendall(body[5:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status, _, rest = answer.partition(b"\r\n")
        assert b" 200 " in status, answer
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["model"] == "churn:2"
    finally:
        gateway.stop()
