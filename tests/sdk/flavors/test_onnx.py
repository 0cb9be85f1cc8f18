"""ONNX: a ModelProto (or its bytes, or a path) saved as is and run with onnxruntime after load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors import OnnxModel, load_model, save_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


@pytest.fixture(scope="module")
def iris_onnx(iris: tuple[Any, Any]) -> tuple[Any, np.ndarray[Any, Any]]:
    from sklearn.linear_model import LogisticRegression

    x, y = iris
    features = x.to_numpy(dtype=np.float32)
    clf = LogisticRegression(max_iter=1000).fit(features, y)
    proto = skl2onnx.to_onnx(clf, features[:1], options={"zipmap": False}, target_opset=17)
    return proto, features


def _direct(proto: Any, features: np.ndarray[Any, Any]) -> list[Any]:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return list(session.run(None, {"X": features}))


def test_model_proto_round_trip(tmp_path: Path, iris_onnx: tuple[Any, np.ndarray[Any, Any]]) -> None:
    proto, features = iris_onnx
    meta = save_model(proto, tmp_path / "m", input_example=features[:10])
    assert (meta.flavor, meta.format, meta.executes_code) == ("onnx", "onnx", False)
    assert meta.info["opsets"]["ai.onnx"] == 17 and "skl2onnx" in meta.info["producer"]
    assert meta.signature is not None and meta.signature.outputs is not None
    assert meta.signature.outputs.fields[0].kind == "int"
    model = load_model(tmp_path / "m", check_signature=True)
    assert isinstance(model.raw, OnnxModel)
    label, probabilities = _direct(proto, features)
    assert np.array_equal(model.predict(features), label)
    outputs = model.raw.run(features)
    assert list(outputs) == ["label", "probabilities"]
    assert np.array_equal(outputs["probabilities"], probabilities)
    assert np.array_equal(model.predict(features.astype(np.float64)), label)  # cast to the input type
    with pytest.raises(InvalidInputError, match=r"expected shape \(n, 4\), got \(150, 3\)"):
        model.predict(features[:, :3])


def test_bytes_and_path_need_the_flavor_named(
    tmp_path: Path, iris_onnx: tuple[Any, np.ndarray[Any, Any]]
) -> None:
    proto, features = iris_onnx
    data = proto.SerializeToString()
    with pytest.raises(InvalidInputError, match=r"no flavor can save a builtins\.bytes") as info:
        save_model(data, tmp_path / "a")
    assert info.value.field == "model"
    save_model(data, tmp_path / "a", flavor="onnx")
    (tmp_path / "file.onnx").write_bytes(data)
    save_model(tmp_path / "file.onnx", tmp_path / "b", flavor="onnx")
    label = _direct(proto, features)[0]
    for name in ("a", "b"):
        assert np.array_equal(load_model(tmp_path / name).predict(features), label)
    with pytest.raises(InvalidInputError, match="not an ONNX model"):
        save_model(b"\x00garbage\xff" * 10, tmp_path / "c", flavor="onnx")
    with pytest.raises(InvalidInputError, match="no ONNX file"):
        save_model(tmp_path / "missing.onnx", tmp_path / "d", flavor="onnx")


def test_auto_detection_picks_onnx(tmp_path: Path, iris_onnx: tuple[Any, np.ndarray[Any, Any]]) -> None:
    assert save_model(iris_onnx[0], tmp_path / "m").flavor == "onnx"
