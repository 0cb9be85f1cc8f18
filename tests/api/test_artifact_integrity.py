"""A run's artifact whose blob was changed in the store is never served whole: the stream stops short, and a
range request is refused before any byte goes."""

from __future__ import annotations

from pathlib import Path

from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.settings import Settings

SIZE = (17 << 20) + 123  # over the size checked before sending: checked as it streams


def test_a_tampered_blob_is_not_served_whole(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "m")
    payload = bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256)
    with TestClient(create_app(settings, webhooks=False), raise_server_exceptions=False) as client:
        run = client.post("/api/v1/runs", json={"project": "p", "name": "r"}).json()
        url = f"/api/v1/runs/{run['id']}/artifacts/weights.bin"
        assert client.put(url, content=payload).status_code == 201
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == payload  # untouched: served and checked

        blob = next(p for p in Path(settings.blobs).rglob("*") if p.is_file() and p.stat().st_size == SIZE)
        raw = bytearray(blob.read_bytes())
        raw[SIZE // 2] ^= 0xFF
        blob.write_bytes(bytes(raw))
        try:
            tampered = client.get(url).content
        except Exception:  # the stream was cut: the client saw an incomplete body
            tampered = b""
        assert len(tampered) < SIZE  # never the whole (changed) file

        part = client.get(url, headers={"Range": "bytes=0-99"})
        assert part.status_code == 500 and part.json()["error"]["type"] == "IntegrityError"
        # Each time, the admins find it in the audit log: the store was changed behind mltrail's back.
        alarms = client.get("/api/v1/audit", params={"action": "blob_integrity_error"}).json()
        events = alarms["events"] if isinstance(alarms, dict) else alarms
        assert len(events) == 2 and {e["run_id"] for e in events} == {run["id"]}
