"""The python flavor, and the load-time safety checks every flavor goes through.

``Recorder`` leaves a trace in ``UNPICKLED`` whenever a pickle of it is loaded: a test that expects
nothing to be deserialized checks that the trace stays empty, and a control load shows the trace works.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mltrail.errors import IntegrityError, InvalidInputError, UntrustedModelError
from mltrail.sdk.flavors import META_FILE, load_model, save_model

UNPICKLED: list[str] = []


def _rebuild(tag: str, scale: float) -> Recorder:
    UNPICKLED.append(tag)
    return Recorder(tag, scale)


class Recorder:
    """A model with ``predict`` whose unpickling is observable."""

    def __init__(self, tag: str, scale: float) -> None:
        self.tag = tag
        self.scale = scale

    def predict(self, x: Any) -> Any:
        return np.asarray(x, dtype=float).sum(axis=1) * self.scale

    def __reduce__(self) -> tuple[Any, tuple[str, float]]:
        return (_rebuild, (self.tag, self.scale))


@pytest.fixture(autouse=True)
def _clear_trace() -> None:
    UNPICKLED.clear()


def _saved(tmp_path: Path, fmt: str = "pickle") -> Path:
    folder = tmp_path / "model"
    save_model(Recorder("good", 2.0), folder, format=fmt, input_example=np.ones((3, 4)))
    return folder


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / META_FILE).read_text())


@pytest.mark.parametrize("fmt", ["pickle", "cloudpickle"])
def test_round_trip_with_trust(tmp_path: Path, diabetes: tuple[Any, Any], fmt: str) -> None:
    if fmt == "cloudpickle":
        pytest.importorskip("cloudpickle")
    x, _ = diabetes
    folder = tmp_path / "model"
    meta = save_model(Recorder("good", 0.5), folder, format=fmt, input_example=x[:10])
    assert (meta.flavor, meta.format, meta.executes_code) == ("python", fmt, True)
    assert meta.model_class.endswith("Recorder")
    assert meta.signature is not None and meta.signature.outputs is not None
    assert meta.signature.inputs.fields[0].shape == (-1, 10)
    model = load_model(folder, trust=True, check_signature=True)
    assert UNPICKLED == ["good"]  # the control: loading does run the unpickling code
    assert np.array_equal(model.predict(x), Recorder("x", 0.5).predict(x))
    assert np.array_equal(model.input_example, x[:10])
    assert model.digest == meta.digest == hashlib.sha256((folder / META_FILE).read_bytes()).hexdigest()
    with pytest.raises(InvalidInputError, match=r"expected shape \(n, 10\)"):
        model.predict(x[:, :5])


def test_pickle_without_trust_is_refused_with_an_explanation(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    with pytest.raises(UntrustedModelError) as info:
        load_model(folder)
    message = str(info.value)
    assert "executes code when it is loaded" in message
    assert "trust=True" in message and "skops" in message
    assert info.value.field == "trust" and info.value.http_status == 403
    assert isinstance(info.value, InvalidInputError)
    assert UNPICKLED == []
    with pytest.raises(UntrustedModelError):  # a type allow-list cannot make a pickle safe
        load_model(folder, trusted_types=["tests.Recorder"])
    assert UNPICKLED == []


def test_tampered_file_is_refused_before_anything_is_unpickled(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    (folder / "model.pkl").write_bytes(pickle.dumps(Recorder("evil", 9.0)))  # a valid, different pickle
    with pytest.raises(IntegrityError, match=r"model\.pkl has sha256 .* nothing was loaded"):
        load_model(folder, trust=True)
    assert UNPICKLED == []


def test_metadata_claiming_a_pickle_is_safe_is_refused(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    meta = _meta(folder)
    meta["executes_code"] = False
    (folder / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(IntegrityError, match="executes_code=False"):
        load_model(folder)
    assert UNPICKLED == []


def test_expected_digest_pins_the_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    meta = save_model(Recorder("good", 2.0), folder, format="pickle")
    assert load_model(folder, trust=True, expected_digest=meta.digest.upper()).digest == meta.digest
    # an attacker who swaps the pickle *and* updates its digest in the metadata is still caught
    evil = pickle.dumps(Recorder("evil", 9.0))
    (folder / "model.pkl").write_bytes(evil)
    data = _meta(folder)
    data["files"][0].update(sha256=hashlib.sha256(evil).hexdigest(), size=len(evil))
    (folder / META_FILE).write_text(json.dumps(data))
    UNPICKLED.clear()
    with pytest.raises(IntegrityError, match="not the expected"):
        load_model(folder, trust=True, expected_digest=meta.digest)
    assert UNPICKLED == []


def test_missing_file_and_missing_example_are_integrity_errors(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    (folder / "input_example.npy").unlink()
    with pytest.raises(IntegrityError, match="missing"):
        load_model(folder, trust=True)
    assert UNPICKLED == []


@pytest.mark.parametrize("path", ["../outside.pkl", "/etc/passwd", "a/../../b", "a\\b", ""])
def test_unsafe_paths_in_metadata_are_refused(tmp_path: Path, path: str) -> None:
    folder = _saved(tmp_path)
    meta = _meta(folder)
    meta["files"][0]["path"] = path
    (folder / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InvalidInputError, match=r"unsafe file path|malformed") as info:
        load_model(folder, trust=True)
    assert info.value.field == META_FILE
    assert UNPICKLED == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"mltrail_model_version": 99}, "upgrade mltrail"),
        ({"flavor": "tensorflow"}, "unknown flavor"),
        ({"format": "joblib"}, "no format 'joblib'"),
        ({"files": "model.pkl"}, "malformed"),
        ({"executes_code": "yes"}, "malformed"),
    ],
)
def test_malformed_metadata_is_refused(tmp_path: Path, change: dict[str, Any], match: str) -> None:
    folder = _saved(tmp_path)
    (folder / META_FILE).write_text(json.dumps({**_meta(folder), **change}))
    with pytest.raises(InvalidInputError, match=match):
        load_model(folder, trust=True)
    (folder / META_FILE).write_text("{not json")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        load_model(folder, trust=True)
    assert UNPICKLED == []
