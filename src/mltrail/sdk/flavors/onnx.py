"""ONNX models: an ``onnx.ModelProto``, or (with ``flavor="onnx"``) its serialized bytes or a ``.onnx`` path.

Loading needs onnxruntime only (not the onnx package) and gives an ``OnnxModel``, whose ``predict`` runs
the inference session on the CPU. ONNX is a graph of standard operators: loading executes no code from
the file. Models with external data files (over 2 GB) are not supported.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors.base import Flavor, Saved, Trust, imported, library_version, one_file
from mltrail.sdk.flavors.meta import ModelMeta

__all__ = ["OnnxFlavor", "OnnxModel"]

_FILE = "model.onnx"
_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxModel:
    """An onnxruntime session with a ``predict`` that returns the model's first output."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.input_names: list[str] = [i.name for i in session.get_inputs()]
        self.output_names: list[str] = [o.name for o in session.get_outputs()]

    def run(self, x: Any) -> dict[str, Any]:
        """Every output by name. ``x``: an array (one input), a mapping by input name, or a DataFrame."""
        outputs = self.session.run(None, self._feeds(x))
        return dict(zip(self.output_names, outputs, strict=True))

    def predict(self, x: Any) -> Any:
        return self.session.run(self.output_names[:1], self._feeds(x))[0]

    def _feeds(self, x: Any) -> dict[str, Any]:
        inputs = self.session.get_inputs()
        pd = sys.modules.get("pandas")
        if pd is not None and isinstance(x, pd.DataFrame):
            if len(inputs) == 1:
                return {inputs[0].name: _cast(x.to_numpy(), inputs[0].type)}
            x = {name: x[name].to_numpy().reshape(-1, 1) for name in x.columns}
        if isinstance(x, Mapping):
            missing = [i.name for i in inputs if i.name not in x]
            if missing:
                raise InvalidInputError(f"the ONNX model needs inputs {missing}", field=missing[0])
            return {i.name: _cast(np.asarray(x[i.name]), i.type) for i in inputs}
        if len(inputs) != 1:
            raise InvalidInputError(
                f"the ONNX model has inputs {self.input_names}: pass a mapping by name", field="input"
            )
        return {inputs[0].name: _cast(np.asarray(x), inputs[0].type)}


def _cast(array: np.ndarray[Any, Any], onnx_type: str) -> np.ndarray[Any, Any]:
    dtype = _TYPES.get(onnx_type)
    return array if dtype is None or array.dtype == dtype else array.astype(dtype)


class OnnxFlavor(Flavor):
    name: ClassVar[str] = "onnx"
    formats: ClassVar[tuple[str, ...]] = ("onnx",)

    def matches(self, model: object) -> bool:
        onnx = imported("onnx")
        return onnx is not None and isinstance(model, onnx.ModelProto)

    def accepts(self, model: object) -> bool:
        return self.matches(model) or isinstance(model, bytes | bytearray | str | Path)

    def save(self, model: Any, folder: Path, fmt: str) -> Saved:
        data = _serialized(model)
        info: dict[str, Any] = {"file": _FILE}
        libraries: dict[str, str] = {}
        try:
            import onnx
            from google.protobuf.message import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
                DecodeError,
            )
        except ImportError:  # bytes or a path given: stored as they are, unchecked
            pass
        else:
            try:
                proto = onnx.load_model_from_string(data)
            except DecodeError as exc:
                raise InvalidInputError(f"not an ONNX model: {exc}", field="model") from exc
            info["opsets"] = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
            info["producer"] = f"{proto.producer_name} {proto.producer_version}".strip()
            libraries["onnx"] = library_version("onnx")
        (folder / _FILE).write_bytes(data)
        return Saved((_FILE,), info, libraries)

    def load(self, files: Mapping[str, bytes], meta: ModelMeta, trust: Trust) -> Any:
        return _session(one_file(files, meta))

    def runnable(self, model: Any) -> Any:
        """An ``OnnxModel`` for ``model`` (to infer outputs at save), or None without onnxruntime."""
        try:
            return _session(_serialized(model))
        except InvalidInputError:
            return None


def _serialized(model: Any) -> bytes:
    if isinstance(model, bytes | bytearray):
        return bytes(model)
    if isinstance(model, str | Path):
        path = Path(model)
        if not path.is_file():
            raise InvalidInputError(f"no ONNX file at {path}", field="model")
        return path.read_bytes()
    return bytes(model.SerializeToString())


def _session(data: bytes) -> OnnxModel:
    try:
        import onnxruntime  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise InvalidInputError(
            "ONNX models need onnxruntime: pip install onnxruntime", field="flavor"
        ) from exc
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return OnnxModel(session)
