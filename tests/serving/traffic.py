"""Helpers of the reload and fault tests: a client thread sending requests while something changes, the
readiness page read on a fresh connection, and waiting for a condition."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from gateway_world import Gateway

__all__ = ["ROW", "Traffic", "ready", "wait"]

ROW = {"tenure": 12.0, "spend": 40.0}


def ready(gateway: Gateway) -> dict[str, Any]:
    with httpx.Client(timeout=5) as fresh:  # a new connection: with --workers N, any worker may answer
        body: dict[str, Any] = fresh.get(f"{gateway.url}/readyz").json()
        return body


def wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Traffic:
    """A client thread sending single-row requests until stopped; every answer and failure counted."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.models: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        url = f"{self.gateway.url}/v1/deployments/{self.gateway.name}/predict"
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(url, json={"rows": [ROW]})
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if response.status_code != 200 or "fallback" in response.json():
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    self.models[response.json()["model"]] += 1

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    @property
    def answered(self) -> int:
        return sum(self.models.values())
