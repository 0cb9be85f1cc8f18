"""``HttpMonitoring``: the monitors of a team server, through ``/api/v1/monitors`` and ``/api/v1/alerts``."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import numpy as np
import orjson
import pyarrow as pa

from mltrail.entities import Alert, AlertNotification, AlertRule, Monitor
from mltrail.errors import AuthenticationError, InvalidInputError, StoreError
from mltrail.sdk.http_codec import decode_float, encode_float
from mltrail.sdk.monitoring.client import (
    ARROW_STREAM,
    HTTP_BATCH_BYTES,
    LABELS_PER_REQUEST,
    AlertDetail,
    IngestOutcome,
    MonitorSummary,
    PerformanceOutcome,
    WindowTarget,
)
from mltrail.sdk.monitoring.codec import alert_from_json, monitor_from_json, rule_from_json
from mltrail.sdk.registry.http import decode_floats, with_key_hint
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.stats.profile import DatasetProfile

__all__ = ["HttpMonitoring", "arrow_stream"]


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _plain(value: Any) -> Any:
    """A label or id as JSON holds it (numpy scalars as Python ones; non-finite floats as none)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _windows(data: Mapping[str, Any]) -> tuple[float, ...]:
    return tuple(decode_float(w) for w in data.get("windows") or ())


def _outcome(data: Mapping[str, Any]) -> IngestOutcome:
    """An ``IngestPublic`` answer (a batch of rows or a profile)."""
    return IngestOutcome(
        rows=int(data["rows"]),
        windows=_windows(data),
        violations={str(k): int(v) for k, v in (data.get("violations") or {}).items()},
        duplicate=bool(data.get("duplicate", False)),
    )


def arrow_stream(table: pa.Table) -> bytes:
    """The table as one Arrow IPC stream, its buffers zstd-compressed (part of the IPC format: any Arrow
    reader opens it; about four times faster than gzip over the whole body)."""
    codec = "zstd" if pa.Codec.is_available("zstd") else None
    options = pa.ipc.IpcWriteOptions(compression=codec)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data


class HttpMonitoring:
    """The monitors of a team server, through ``/api/v1/monitors`` and ``/api/v1/alerts``.

    The ``HttpTransport`` is shared (one per server and key in the process) and not closed here.
    """

    max_batch_bytes: int | None = HTTP_BATCH_BYTES

    def __init__(self, http: HttpTransport, user: str | None = None) -> None:
        self.http = http
        self.where = f"the mltrail server at {http.base_url}"
        self.user = user  # sent as ``user``; only a server without authentication uses it

    def as_user(self, user: str | None) -> HttpMonitoring:
        return HttpMonitoring(self.http, user)

    # -- plumbing -----------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http._request(method, url, **kwargs)
        except AuthenticationError as exc:
            raise with_key_hint(exc, self.http.base_url) from None

    def _json(self, method: str, url: str, body: Any = None, *, key: str | None = None) -> Any:
        """``body`` sent as JSON, the answer's JSON back; ``key``: the ``Idempotency-Key`` header."""
        content = None if body is None else orjson.dumps(body)
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        response = self._request(method, url, content=content, headers=headers or None)
        return response.json() if response.content else None

    # -- monitors -----------------------------------------------------------------------------------------
    def get(self, name: str) -> Monitor:
        return monitor_from_json(self._json("GET", f"/monitors/{_q(name)}"))

    def monitors(self) -> list[Monitor]:
        return [monitor_from_json(m) for m in self._json("GET", "/monitors")["monitors"]]

    def summaries(self) -> list[MonitorSummary]:
        found = []
        for item in self._json("GET", "/monitors")["monitors"]:
            last = item.get("last_window")
            found.append(
                MonitorSummary(
                    monitor_from_json(item),
                    None if last is None else decode_float(last),
                    int(item.get("open_alerts") or 0),
                )
            )
        return found

    def _monitors_by_name(self) -> dict[str, Monitor]:
        return {m.name: m for m in self.monitors()}

    def create(
        self,
        name: str,
        ref: str,
        *,
        reference: DatasetProfile | None,
        features: Sequence[str] | None,
        prediction: str,
        task: str,
        granularity: str,
        segments: Sequence[str],
        drift: Mapping[str, Any] | None,
        reference_source: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        body: dict[str, Any] = {
            "name": name,
            "model": ref,
            "segments": list(segments),
            "granularity": granularity,
            "task": task,
            "features": list(features) if features else None,
            "prediction": prediction,
            "drift": None if drift is None else dict(drift),
            "user": self.user,
        }
        if calibration is not None:  # fitted here, like the profile: labelled rows never leave the process
            body["calibration"] = dict(calibration)
        if reference is not None:  # profiled here: the raw reference data never leaves the process
            body["reference"] = base64.b64encode(reference.to_bytes()).decode("ascii")
            if reference_source:
                body["reference_source"] = reference_source
        try:
            return monitor_from_json(self._json("POST", "/monitors", body))
        except InvalidInputError as exc:
            if reference is not None and exc.field == "reference" and "extra" in exc.message.lower():
                raise InvalidInputError(
                    f"{self.where} does not take a reference= for a new monitor (it uses the profile of"
                    " the training dataset the version's run logged); create the monitor without"
                    " reference=, or upgrade the server",
                    field="reference",
                ) from exc
            raise

    def calibrate(self, name: str, calibration: Mapping[str, Any]) -> Monitor:
        body = {"calibration": dict(calibration)}
        return monitor_from_json(self._json("PUT", f"/monitors/{_q(name)}/calibration", body))

    def set_reference(
        self,
        name: str,
        *,
        reference: DatasetProfile | None = None,
        run: str | None = None,
        reference_source: str | None = None,
    ) -> Monitor:
        body: dict[str, Any] = {"run": run, "reference_source": reference_source, "user": self.user}
        if reference is not None:  # profiled here: the raw reference data never leaves the process
            body["reference"] = base64.b64encode(reference.to_bytes()).decode("ascii")
        return monitor_from_json(self._json("POST", f"/monitors/{_q(name)}/reference", body))

    def delete(self, name: str) -> None:
        self._request("DELETE", f"/monitors/{_q(name)}")

    def _post_predictions(self, name: str, table: pa.Table, key: str | None) -> dict[str, Any]:
        headers = {"Content-Type": ARROW_STREAM}
        if key is not None:
            headers["Idempotency-Key"] = key
        response = self._request(
            "POST", f"/monitors/{_q(name)}/predictions", content=arrow_stream(table), headers=headers
        )
        data: dict[str, Any] = response.json()
        return data

    @staticmethod
    def _too_large(exc: InvalidInputError) -> bool:
        """A 413: above the server's batch limit (``--max-upload-mb``); nothing was stored."""
        return exc.field == "body" and "limited to" in exc.message

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        try:
            data = self._post_predictions(name, table, key)
        except InvalidInputError as exc:
            # The rows can go again in smaller batches: the writer keeps them queued on a StoreError and
            # splits by ``max_batch_bytes``; a single row too large stays refused.
            if not self._too_large(exc) or table.num_rows < 2:
                raise
            self.max_batch_bytes = max(1, min(self.max_batch_bytes or table.nbytes, table.nbytes) // 2)
            raise StoreError(f"{exc.message}: sending {table.num_rows} rows in smaller batches") from exc
        return int(data["rows"])

    def ingest_batch(self, name: str, table: pa.Table, key: str | None = None) -> IngestOutcome:
        """One upload; a batch over the server's limit is sent again in halves (each under a key derived
        from ``key``, so a retried piece lands once too)."""
        try:
            data = self._post_predictions(name, table, key)
        except InvalidInputError as exc:
            if not self._too_large(exc) or table.num_rows < 2:
                raise
            half = table.num_rows // 2
            first = self.ingest_batch(name, table.slice(0, half), None if key is None else f"{key}.0")
            return first + self.ingest_batch(name, table.slice(half), None if key is None else f"{key}.1")
        return _outcome(data)

    def _post_window(self, name: str, route: str, body: dict[str, Any], window: WindowTarget) -> Any:
        """``body`` with the window's start and granularity, sent under its key: ``HttpTransport`` retries
        a lost answer with the same headers, so the retry lands once."""
        body = {**body, "window_start": window.window_start, "granularity": window.granularity}
        return self._json("POST", f"/monitors/{_q(name)}/{route}", body, key=window.key)

    def log_profile(
        self, name: str, profile: DatasetProfile, window: WindowTarget, segment: str = ""
    ) -> IngestOutcome:
        encoded = base64.b64encode(profile.to_bytes()).decode("ascii")
        return _outcome(self._post_window(name, "profiles", {"profile": encoded, "segment": segment}, window))

    def log_performance(
        self, name: str, accumulators: Mapping[str, Mapping[str, Any]], window: WindowTarget
    ) -> PerformanceOutcome:
        body = {"accumulators": {k: dict(v) for k, v in accumulators.items()}}
        data = self._post_window(name, "performance", body, window)
        return PerformanceOutcome(_windows(data), bool(data.get("duplicate", False)))

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        if len(ids) != len(labels):
            raise InvalidInputError(f"{len(ids)} ids but {len(labels)} labels", field="labels")
        matched = unknown = 0
        for start in range(0, len(ids), LABELS_PER_REQUEST):
            body = {
                "ids": [str(_plain(i)) for i in ids[start : start + LABELS_PER_REQUEST]],
                "labels": [_plain(v) for v in labels[start : start + LABELS_PER_REQUEST]],
            }
            data = self._json("POST", f"/monitors/{_q(name)}/labels", body)
            matched += int(data["matched"])
            unknown += int(data["unknown"])
        return matched, unknown

    def _report_query(
        self, granularity: str | None, since: float | None, until: float | None, format: str
    ) -> dict[str, str]:
        # ``last=""``: the period is exactly [since, until) as computed by the caller, no server default.
        query = {"last": "", "format": format}
        if granularity is not None:
            query["window"] = granularity
        if since is not None:
            query["since"] = repr(float(since))
        if until is not None:
            query["until"] = repr(float(until))
        return query

    def report(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> dict[str, Any]:
        params = self._report_query(granularity, since, until, "json")
        report: dict[str, Any] = decode_floats(
            self._request("GET", f"/monitors/{_q(name)}/report", params=params).json()
        )
        return report

    def report_html(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> str:
        params = self._report_query(granularity, since, until, "html")
        return self._request("GET", f"/monitors/{_q(name)}/report", params=params).text

    def add_rule(
        self,
        monitor: Monitor,
        *,
        metric: str,
        feature: str | None,
        segment: str | None,
        above: float | None,
        below: float | None,
        for_windows: int,
        notify: Sequence[str],
        action: str | None = None,
    ) -> AlertRule:
        body = {
            "metric": metric,
            "feature": feature,
            "segment": segment,
            "above": None if above is None else encode_float(float(above)),
            "below": None if below is None else encode_float(float(below)),
            "for_windows": for_windows,
            "notify": list(notify),
            "action": action,
            "user": self.user,
        }
        data = self._json("POST", f"/monitors/{_q(monitor.name)}/alert-rules", body)
        return rule_from_json(data, monitor)

    def raise_event(self, monitor: Monitor, metric: str, detail: str) -> Alert:
        body = {"metric": metric, "detail": detail}
        data = self._json("POST", f"/monitors/{_q(monitor.name)}/alerts/events", body)
        return alert_from_json(data, monitor)

    def alerts(self, monitor: Monitor, state: str | None) -> list[Alert]:
        return self.list_alerts(monitor, state, 100)

    def rules(self, monitor: Monitor) -> list[AlertRule]:
        data = self._json("GET", f"/monitors/{_q(monitor.name)}/alert-rules")
        return [rule_from_json(r, monitor) for r in data["rules"]]

    def delete_rule(self, rule_id: int) -> None:
        self._request("DELETE", f"/alert-rules/{int(rule_id)}")

    def evaluate_rules(self, monitor: Monitor) -> list[Alert]:
        data = self._json("POST", f"/monitors/{_q(monitor.name)}/alert-rules/evaluate")
        return [alert_from_json(a, monitor) for a in data["alerts"]]

    def list_alerts(self, monitor: Monitor | None, state: str | None, limit: int) -> list[Alert]:
        params = {"limit": str(limit)}
        if monitor is not None:
            params["monitor"] = monitor.name
        if state is not None:
            params["state"] = state
        data = self._request("GET", "/alerts", params=params).json()
        if monitor is not None:
            return [alert_from_json(a, monitor) for a in data["alerts"]]
        monitors = self._monitors_by_name() if data["alerts"] else {}
        return [
            alert_from_json(a, monitors[a["monitor"]]) for a in data["alerts"] if a["monitor"] in monitors
        ]

    def _detail(self, data: dict[str, Any]) -> AlertDetail:
        monitor = self.get(data["monitor"])
        log = tuple(
            AlertNotification(
                alert_id=int(data["id"]),
                channel=n["channel"],
                time=decode_float(n["time"]),
                ok=bool(n["ok"]),
                status_code=n.get("status_code"),
                error=n.get("error"),
            )
            for n in data.get("notifications") or ()
        )
        return AlertDetail(alert_from_json(data, monitor), monitor, log)

    def alert(self, alert_id: int) -> AlertDetail:
        return self._detail(self._json("GET", f"/alerts/{int(alert_id)}"))

    def acknowledge(self, alert_id: int) -> AlertDetail:
        return self._detail(self._json("POST", f"/alerts/{int(alert_id)}/acknowledge", {"user": self.user}))

    def resolve(self, alert_id: int) -> AlertDetail:
        return self._detail(self._json("POST", f"/alerts/{int(alert_id)}/resolve", {"user": self.user}))

    def flush(self) -> None:
        """Nothing to wait for: the server evaluates alerts and sends notifications."""

    def close(self) -> None:
        """Nothing to close: the shared ``HttpTransport`` is closed at exit (``models.close_clients``)."""
