"""``mltrail runs media`` on an embedded store filled by the SDK: names and steps, one item, a file saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from typer.testing import Result

import mltrail
from mltrail.services.tracking.media_images import encode_png

Invoke = Callable[..., Result]
OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def test_media_list_item_and_file(home: Path, invoke: Invoke, tmp_path: Path) -> None:
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    with mltrail.init(project="vision", name="r1", capture=OFF) as run:
        for _ in range(3):
            run.log_image("sample", image, boxes=[{"x": 0, "y": 0, "w": 2, "h": 2, "label": "cat"}])
        run.log_histogram("w", [1.0, 2.0, 2.5], bins=2)
    listed = invoke("runs", "media", "r1", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["media"] == [
        {"name": "sample", "kind": "image", "steps": [0, 1, 2]},
        {"name": "w", "kind": "histogram", "steps": [0]},
    ]
    shown = invoke("runs", "media", "r1", "sample", "--step", "1")
    assert shown.exit_code == 0, shown.output
    assert "sample step 1" in shown.stdout and "'label': 'cat'" in shown.stdout
    target = tmp_path / "s.png"
    saved = invoke("runs", "media", "r1", "sample", "--file", "image", "-o", str(target))
    assert saved.exit_code == 0, saved.output
    assert target.read_bytes() == encode_png(image)
    missing = invoke("runs", "media", "r1", "nope")
    assert missing.exit_code != 0 and "has no media 'nope'" in missing.output
