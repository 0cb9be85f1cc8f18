"""``HttpMonitoring``: the monitors of a team server, through ``/api/v1/monitors`` and ``/api/v1/alerts``."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from mltrail.entities import Alert, AlertRule, Monitor
from mltrail.errors import InvalidInputError, StoreError
from mltrail.sdk.http_codec import encode_float
from mltrail.sdk.monitoring.client import ARROW_STREAM, HTTP_BATCH_BYTES, LABELS_PER_REQUEST
from mltrail.sdk.monitoring.codec import alert_from_json, monitor_from_json, rule_from_json
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

    def get(self, name: str) -> Monitor:
        return monitor_from_json(self.http._json("GET", f"/monitors/{_q(name)}"))

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
        if reference is not None:  # profiled here: the raw reference data never leaves the process
            body["reference"] = base64.b64encode(reference.to_bytes()).decode("ascii")
        try:
            return monitor_from_json(self.http._json("POST", "/monitors", body))
        except InvalidInputError as exc:
            if reference is not None and exc.field == "reference" and "extra" in exc.message.lower():
                raise InvalidInputError(
                    f"{self.where} does not take a reference= for a new monitor (it uses the profile of"
                    " the training dataset the version's run logged); create the monitor without"
                    " reference=, or upgrade the server",
                    field="reference",
                ) from exc
            raise

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        stream = arrow_stream(table)
        headers = {"Content-Type": ARROW_STREAM}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            response = self.http._request(
                "POST", f"/monitors/{_q(name)}/predictions", content=stream, headers=headers
            )
        except InvalidInputError as exc:
            # Above the server's batch limit (``--max-upload-mb``, 413): nothing was stored, so the rows
            # can go again in smaller batches. The writer keeps them queued on a StoreError and splits by
            # ``max_batch_bytes``; a single row too large stays refused.
            if exc.field != "body" or "limited to" not in exc.message or table.num_rows < 2:
                raise
            self.max_batch_bytes = max(1, min(self.max_batch_bytes or len(stream), table.nbytes) // 2)
            raise StoreError(f"{exc.message}: sending {table.num_rows} rows in smaller batches") from exc
        return int(response.json()["rows"])

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        if len(ids) != len(labels):
            raise InvalidInputError(f"{len(ids)} ids but {len(labels)} labels", field="labels")
        matched = unknown = 0
        for start in range(0, len(ids), LABELS_PER_REQUEST):
            body = {
                "ids": [str(_plain(i)) for i in ids[start : start + LABELS_PER_REQUEST]],
                "labels": [_plain(v) for v in labels[start : start + LABELS_PER_REQUEST]],
            }
            data = self.http._json("POST", f"/monitors/{_q(name)}/labels", body)
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
        report: dict[str, Any] = self.http._request(
            "GET", f"/monitors/{_q(name)}/report", params=params
        ).json()
        return report

    def report_html(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> str:
        params = self._report_query(granularity, since, until, "html")
        return self.http._request("GET", f"/monitors/{_q(name)}/report", params=params).text

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
    ) -> AlertRule:
        body = {
            "metric": metric,
            "feature": feature,
            "segment": segment,
            "above": None if above is None else encode_float(float(above)),
            "below": None if below is None else encode_float(float(below)),
            "for_windows": for_windows,
            "notify": list(notify),
            "user": self.user,
        }
        data = self.http._json("POST", f"/monitors/{_q(monitor.name)}/alert-rules", body)
        return rule_from_json(data, monitor)

    def alerts(self, monitor: Monitor, state: str | None) -> list[Alert]:
        params = {"monitor": monitor.name, "limit": "100"}
        if state is not None:
            params["state"] = state
        data = self.http._request("GET", "/alerts", params=params).json()
        return [alert_from_json(a, monitor) for a in data["alerts"]]

    def flush(self) -> None:
        """Nothing to wait for: the server evaluates alerts and sends notifications."""

    def close(self) -> None:
        """Nothing to close: the shared ``HttpTransport`` is closed at exit (``models.close_clients``)."""
