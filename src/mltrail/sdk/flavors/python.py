"""Any Python object with a ``predict`` method, pickled (with cloudpickle when it is installed).

cloudpickle also stores classes and functions defined in ``__main__`` or a notebook by value, so the model
loads where that code does not exist. Either way the file is a pickle: loading it runs whatever code it
names, so it loads only with ``trust=True``.
"""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors.base import Flavor, Saved, Trust, library_version, one_file
from mltrail.sdk.flavors.meta import ModelMeta

__all__ = ["PythonFlavor"]

_FILE = "model.pkl"


class PythonFlavor(Flavor):
    name: ClassVar[str] = "python"
    formats: ClassVar[tuple[str, ...]] = ("cloudpickle", "pickle")
    code_executing_formats: ClassVar[frozenset[str]] = frozenset({"cloudpickle", "pickle"})

    def matches(self, model: object) -> bool:
        return not isinstance(model, type) and callable(getattr(model, "predict", None))

    def default_format(self, model: object) -> str:
        return "cloudpickle" if importlib.util.find_spec("cloudpickle") is not None else "pickle"

    def save(self, model: Any, folder: Path, fmt: str) -> Saved:
        libraries: dict[str, str] = {}
        if fmt == "cloudpickle":
            try:
                import cloudpickle  # type: ignore[import-untyped,import-not-found,unused-ignore]
            except ImportError as exc:
                raise InvalidInputError(
                    "format='cloudpickle' needs cloudpickle: pip install cloudpickle", field="format"
                ) from exc
            data = cloudpickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            libraries["cloudpickle"] = library_version("cloudpickle")
        else:
            data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        (folder / _FILE).write_bytes(data)
        return Saved((_FILE,), {"file": _FILE}, libraries)

    def load(self, files: Mapping[str, bytes], meta: ModelMeta, trust: Trust) -> Any:
        # load_model has refused this format already unless the caller trusts it
        return pickle.loads(one_file(files, meta))  # noqa: S301 - trusted explicitly by the caller
