"""run.log_image, log_histogram and log_figure through the SDK, embedded and against a real server: every
accepted kind of image, steps, boxes and masks back as they went in, files verified on the way out, and
things that are not images refused in the caller, naming the field."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mltrail
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.tracking.media_images import sniff_image
from mltrail.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "store", flush_interval=0.05)


def _png_pixels(data: bytes) -> np.ndarray:
    """Decode our own 8-bit, filter-0 PNGs (enough to check what went in came out)."""
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    at, idat = 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    channels = {0: 1, 2: 3, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, -1)[:, 1:]
    dtype = np.dtype(">u2") if depth == 16 else np.uint8
    return raw.copy().view(dtype).reshape(height, width, channels).squeeze()


BOXES = [
    {"x": 1, "y": 2, "w": 3, "h": 4, "label": "cat", "score": 0.9},
    {"x": 0, "y": 0, "w": 1, "h": 1, "label": "dog"},
]


def _log_all(run: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    gray = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    run.log_image("digits", gray, boxes=BOXES, caption="a seven")
    run.log_image("digits", rng.random((6, 8, 3)))  # floats in 0..1 → step 1
    run.log_image("digits", rng.integers(0, 256, (6, 8, 4), dtype=np.uint8), step=5)
    mask = np.zeros((6, 8), dtype=np.int64)
    mask[2:4, 3:6] = 2
    run.log_image("seg", gray, masks=(mask, {0: "background", 2: "road"}))
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffc0000b080003000401011100ffd9")
    run.log_image("photo", jpeg)
    path = tmp_path / "g.png"
    from mltrail.services.tracking.media_images import encode_png

    path.write_bytes(encode_png(gray))
    run.log_image("fromfile", path)
    run.log_histogram("weights", rng.normal(size=1000), bins=10)
    run.log_histogram("weights", ([1, 2, 3], [0.0, 1.0, 2.0, 3.0]), step=3)


def _check_read_back(reader: Any, run_id: str, extra: dict[str, Any] | None = None) -> None:
    names = {m.name: (m.kind, m.steps) for m in reader.media(run_id)}
    assert names == (extra or {}) | {
        "digits": ("image", [0, 1, 5]),
        "fromfile": ("image", [0]),
        "photo": ("image", [0]),
        "seg": ("image", [0]),
        "weights": ("histogram", [0, 3]),
    }
    first = reader.media_item(run_id, "digits", step=0)
    assert first.meta["width"] == 8 and first.meta["height"] == 6 and first.meta["caption"] == "a seven"
    assert first.meta["boxes"] == [
        {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0, "label": "cat", "score": 0.9},
        {"x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0, "label": "dog"},
    ]
    rng = np.random.default_rng(7)
    gray = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    _, data = reader.media_file(run_id, "digits", "image", step=0)
    assert np.array_equal(_png_pixels(data), gray)
    last, data = reader.media_file(run_id, "digits", "image")  # the last step by default
    assert last.step == 5 and _png_pixels(data).shape == (6, 8, 4)
    seg, mask_png = reader.media_file(run_id, "seg", "mask")
    assert seg.meta["mask_labels"] == {"0": "background", "2": "road"}
    mask = _png_pixels(mask_png)
    assert mask.shape == (6, 8) and mask[3, 4] == 2 and mask.sum() == 2 * 6
    photo = reader.media_item(run_id, "photo")
    assert (photo.meta["format"], photo.meta["width"], photo.meta["height"]) == ("jpeg", 4, 3)
    hist = reader.media_item(run_id, "weights", step=0)
    assert sum(hist.meta["counts"]) == 1000 and len(hist.meta["edges"]) == 11 and hist.files == []
    assert reader.media_item(run_id, "weights").meta["counts"] == [1, 2, 3]
    with pytest.raises(NotFoundError):
        reader.media_file(run_id, "weights", "image")


def test_embedded_images_histograms_steps_boxes_masks(settings: Settings, tmp_path: Path) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        _log_all(run, tmp_path)
    _check_read_back(mltrail.connect(settings=settings).runs, run.id)


def test_through_a_server_media_are_journaled_and_verified(tmp_path: Path, http_server: Any) -> None:
    client = Settings(home=tmp_path / "client", journal_dir=tmp_path / "journal", flush_interval=0.05)
    noise = np.random.default_rng(1).integers(0, 256, (700, 700, 3), dtype=np.uint8)  # ~1.5 MB of PNG
    with mltrail.init(project="media-http", capture=False, settings=client, server=http_server.url) as run:
        _log_all(run, tmp_path)
        run.log_image("large", noise)  # over the 1 MiB of a JSON body: media have an upload's bound
    reader = mltrail.connect(http_server.url, settings=client).runs
    _check_read_back(reader, run.id, extra={"large": ("image", [0])})
    assert _png_pixels(reader.media_file(run.id, "large", "image")[1]).shape == (700, 700, 3)
    assert not list((tmp_path / "journal").rglob("rejected*"))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda r: r.log_image("x", b"GIF89a not an image we take"), "image"),
        (lambda r: r.log_image("x", b"\x89PNG\r\n\x1a\n truncated"), "image"),
        (lambda r: r.log_image("x", b"%PDF-1.4"), "image"),
        (lambda r: r.log_image("x", "no/such/file.png"), "image"),
        (lambda r: r.log_image("x", np.full((4, 4), 1.5)), "image"),
        (lambda r: r.log_image("x", np.zeros((4, 4, 2), np.uint8)), "image"),
        (lambda r: r.log_image("x", {"not": "an image"}), "image"),
        (lambda r: r.log_image("x", np.zeros((4, 4), np.uint8), masks=np.zeros((3, 4), int)), "masks"),
        (lambda r: r.log_image("x", np.zeros((4, 4), np.uint8), masks=np.full((4, 4), -1)), "masks"),
        (lambda r: r.log_image("x", np.zeros((4, 4), np.uint8), boxes=[{"x": 1}]), "boxes"),
        (
            lambda r: r.log_image("x", np.zeros((4, 4), np.uint8), boxes=[{"x": 0, "y": 0, "w": -1, "h": 1}]),
            "boxes",
        ),
        (lambda r: r.log_image("a/b", np.zeros((4, 4), np.uint8)), "name"),
        (lambda r: r.log_histogram("h", ["a"]), "values"),
        (lambda r: r.log_histogram("h", ([1, 2], [0.0, 1.0])), "edges"),
        (lambda r: r.log_histogram("h", ([1, -2], [0.0, 1.0, 2.0])), "counts"),
        (lambda r: r.log_histogram("h", ([1, float("nan")], [0.0, 1.0, 2.0])), "counts"),
        (lambda r: r.log_histogram("h", [1.0, 2.0], bins=0), "bins"),
        (lambda r: r.log_histogram("h", [], bins=3), "values"),
        (lambda r: r.log_figure("f", object()), "fig"),
    ],
)
def test_bad_media_are_refused_naming_the_field(settings: Settings, call: Any, field: str) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        with pytest.raises(InvalidInputError) as bad:
            call(run)
        assert bad.value.field == field
    assert mltrail.connect(settings=settings).runs.media(run.id) == []  # nothing kept


def test_two_values_are_values_not_counts_and_edges(settings: Settings) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        item = run.log_histogram("h", (1.0, 3.0), bins=2)
    assert item.meta["counts"] == [1, 1] and item.meta["edges"] == [1.0, 2.0, 3.0]


def test_a_name_keeps_its_kind(settings: Settings) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        run.log_histogram("h", [1.0, 2.0])
        with pytest.raises(InvalidInputError) as clash:
            run.log_image("h", np.zeros((2, 2), np.uint8))
        assert clash.value.field == "name"


def test_pil_images_when_pil_is_installed(settings: Settings) -> None:
    image_module = pytest.importorskip("PIL.Image")
    pil = image_module.new("P", (5, 3))
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        item = run.log_image("pil", pil)
    assert (item.meta["width"], item.meta["height"]) == (5, 3)


def test_matplotlib_figures_are_kept_as_svg_and_png(settings: Settings) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow([[5, 1], [2, 7]])
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        item = run.log_figure("confusion", fig, caption="val")
    plt.close(fig)
    assert sorted(f.role for f in item.files) == ["png", "svg"] and item.meta["library"] == "matplotlib"
    reader = mltrail.connect(settings=settings).runs
    _, svg = reader.media_file(run.id, "confusion", "svg")
    assert b"<svg" in svg
    _, png = reader.media_file(run.id, "confusion", "png")
    assert sniff_image(png)[0] == "image/png"


def test_plotly_figures_are_kept_as_json(settings: Settings) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name="loss"))
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        item = run.log_figure("curve", fig)
        as_dict = run.log_figure("curve", {"data": [{"type": "bar", "x": [1], "y": [2]}]})
    assert item.meta["library"] == "plotly" and as_dict.step == 1
    import json

    _, data = mltrail.connect(settings=settings).runs.media_file(run.id, "curve", "plotly", step=0)
    assert json.loads(data)["data"][0]["y"] == [3, 1, 2]


def test_the_same_image_is_stored_once(settings: Settings) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        a = run.log_image("a", np.zeros((3, 3), np.uint8))
        b = run.log_image("b", np.zeros((3, 3), np.uint8))
    assert a.files[0].digest == b.files[0].digest


def test_disabled_mode_checks_but_keeps_nothing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "off", mode="disabled")
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        assert run.log_image("x", np.zeros((2, 2), np.uint8)).name == "x"
        with pytest.raises(InvalidInputError):
            run.log_image("x", b"not an image")  # the same refusal, so a disabled run finds the same bugs
    assert not (tmp_path / "off" / "blobs").exists()


def test_offline_media_are_journaled_then_synced(tmp_path: Path, http_server: Any) -> None:
    client = Settings(home=tmp_path / "client", journal_dir=tmp_path / "journal", mode="offline")
    with mltrail.init(project="media-off", capture=False, settings=client, server=http_server.url) as run:
        run.log_image("img", np.full((3, 3), 7, np.uint8), caption="later")
    env = {
        **os.environ,
        "MLTRAIL_JOURNAL_DIR": str(tmp_path / "journal"),
        "MLTRAIL_DIR": str(tmp_path / "client"),
    }
    mltrail_cli = str(Path(sys.executable).with_name("mltrail"))
    synced = subprocess.run(
        [mltrail_cli, "sync", "--server", http_server.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    item = mltrail.connect(http_server.url, settings=client).runs.media_item(run.id, "img")
    assert item.meta["caption"] == "later" and item.step == 0
