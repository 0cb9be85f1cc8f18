"""scikit-learn estimators, saved with skops by default (no pickle), or with pickle when asked.

skops stores an object tree in a zip and rebuilds only the types it knows to be safe; any other type (a
custom estimator, a third-party class, or one skops flags as unsafe by content such as
``sklearn.tree._tree.Tree``) is refused unless the caller trusts it. The check reads the file's schema
only: nothing is constructed before it passes.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from mltrail.errors import InvalidInputError, UntrustedModelError
from mltrail.sdk.flavors.base import Flavor, Saved, Trust, imported, library_version, one_file
from mltrail.sdk.flavors.meta import ModelMeta

__all__ = ["SklearnFlavor"]

_FILES = {"skops": "model.skops", "pickle": "model.pkl"}


class SklearnFlavor(Flavor):
    name: ClassVar[str] = "sklearn"
    formats: ClassVar[tuple[str, ...]] = ("skops", "pickle")
    code_executing_formats: ClassVar[frozenset[str]] = frozenset({"pickle"})

    def matches(self, model: object) -> bool:
        base = imported("sklearn.base")
        return base is not None and isinstance(model, base.BaseEstimator)

    def save(self, model: Any, folder: Path, fmt: str) -> Saved:
        file = _FILES[fmt]
        libraries = {"scikit-learn": library_version("sklearn")}
        info: dict[str, Any] = {"file": file}
        if fmt == "skops":
            sio = _skops()
            try:
                sio.dump(model, folder / file)
            except TypeError as exc:  # skops' UnsupportedTypeException: it cannot persist a part
                raise InvalidInputError(
                    f"skops cannot save this model: {exc}. Save it with format='pickle' "
                    "(it will then load only with trust=True)",
                    field="model",
                ) from exc
            libraries["skops"] = library_version("skops")
            # for information only: load checks the file itself, never this list
            info["untrusted_types"] = sorted(sio.get_untrusted_types(file=folder / file))
        else:
            (folder / file).write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        return Saved((file,), info, libraries)

    def load(self, files: Mapping[str, bytes], meta: ModelMeta, trust: Trust) -> Any:
        data = one_file(files, meta)
        if meta.format == "pickle":  # load_model has already refused it without trust
            return pickle.loads(data)  # noqa: S301 - trusted explicitly by the caller
        sio = _skops()
        found = sorted(sio.get_untrusted_types(data=data))
        refused = [name for name in found if name not in trust.types]
        if refused and not trust.all:
            raise UntrustedModelError(_untrusted_message(refused), field="trust")
        return sio.loads(data, trusted=found)


def _skops() -> Any:
    try:
        import skops.io as sio  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise InvalidInputError(
            "the skops format needs the skops package: pip install 'mltrail[models]' "
            "(or save with format='pickle', which executes code on load)",
            field="format",
        ) from exc
    return sio


def _untrusted_message(types: list[str]) -> str:
    try:
        from skops.io.exceptions import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            UNTRUSTED_TYPE_REASONS,
        )
    except ImportError:  # older skops: no reasons, the list alone
        reasons: Mapping[str, str] = {}
    else:
        reasons = UNTRUSTED_TYPE_REASONS
    lines = [
        f"the model contains types that skops does not trust by default: {types}. Loading them imports "
        "their modules and builds the objects, so custom or third-party classes run their own code, and "
        "some built-in ones can crash the process when their stored content is crafted.",
    ]
    lines += [f"- {reasons[name]}" for name in types if name in reasons]
    lines.append(
        "If you trust where the model comes from, load it with trust=True, or list the reviewed types in "
        "trusted_types=[...]."
    )
    return "\n".join(lines)
