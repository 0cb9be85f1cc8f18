"""What a flavor is: how one kind of model is recognised, written to files and read back.

A flavor never imports its framework at module level, and ``matches`` looks the framework up in
``sys.modules`` only: an object can only be, say, an XGBoost model if xgboost has been imported, so
detection never imports a framework the caller did not use.

``load`` receives the *verified* bytes of the model's files (their sha256 already checked against the
metadata), never a path: the bytes deserialized are the bytes checked, with no window in which a file
could be swapped between the check and the read.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors.meta import ModelMeta

__all__ = ["Flavor", "Saved", "Trust", "imported", "library_version", "one_file", "qualified_name"]


@dataclass(frozen=True)
class Saved:
    """What ``Flavor.save`` wrote: file names relative to the folder, and flavor-specific information."""

    files: tuple[str, ...]
    info: Mapping[str, Any] = field(default_factory=dict)
    libraries: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Trust:
    """What the caller allows at load: everything (``all``), or these fully-qualified type names only."""

    all: bool = False
    types: frozenset[str] = frozenset()


class Flavor(ABC):
    """One kind of model. Subclasses set ``name`` and ``formats`` (the first is the default)."""

    name: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]
    code_executing_formats: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def matches(self, model: object) -> bool:
        """Whether auto-detection should pick this flavor for ``model``."""

    def accepts(self, model: object) -> bool:
        """Whether this flavor can save ``model`` when asked for explicitly (by default: ``matches``)."""
        return self.matches(model)

    def executes_code(self, fmt: str) -> bool:
        """Whether loading ``fmt`` can run code the file chooses. Decided here, never read from a file."""
        return fmt in self.code_executing_formats

    def default_format(self, model: object) -> str:
        return self.formats[0]

    @abstractmethod
    def save(self, model: Any, folder: Path, fmt: str) -> Saved:
        """Write ``model`` into the (empty) ``folder`` in format ``fmt``."""

    @abstractmethod
    def load(self, files: Mapping[str, bytes], meta: ModelMeta, trust: Trust) -> Any:
        """The native model object from the verified bytes of its files."""

    def runnable(self, model: Any) -> Any:
        """What ``predict`` can run, from the object being saved (to infer outputs); None if nothing can."""
        return model

    def predict(self, model: Any, x: Any) -> Any:
        """Run the native model on ``x`` (by default ``model.predict(x)``)."""
        return model.predict(x)


def imported(name: str) -> ModuleType | None:
    """The module if it has already been imported, else None (never imports it)."""
    return sys.modules.get(name)


def library_version(module: str) -> str:
    """The version of an installed library, by its import name ("unknown" if it has none)."""
    mod = sys.modules.get(module)
    if mod is None:
        return "unknown"
    return str(getattr(mod, "__version__", "unknown"))


def qualified_name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def one_file(files: Mapping[str, bytes], meta: ModelMeta, key: str = "file") -> bytes:
    """The bytes of the model file named by ``meta.info[key]``, which must be a listed file."""
    name = meta.info.get(key)
    if not isinstance(name, str) or name not in files:
        raise InvalidInputError(f"the model metadata names no valid model file ({key}={name!r})", field=key)
    return files[name]
