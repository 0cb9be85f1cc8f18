"""Framework methods replaced by autologging wrappers, and every original put back on disable.

Patching is global by nature (the framework's classes are process-wide), so the applied patches live in
one registry per integration, here; the run a patched call logs into is context-local (``session.py``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Patches", "is_patched", "original_of"]

_MARK = "__mltrail_autolog_original__"


@dataclass(frozen=True)
class _Applied:
    owner: Any
    name: str
    original: Any


class Patches:
    """The patches one integration applied: ``apply`` is idempotent, ``restore`` puts the originals back."""

    def __init__(self) -> None:
        self._applied: list[_Applied] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._applied)

    def apply(self, owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> bool:
        """Replace ``owner.name`` (a function in ``owner``'s own namespace) by ``make(original)``.

        A name already patched (by this or an earlier ``apply``) is left as it is, so enabling twice wraps
        once. Returns whether a patch was applied.
        """
        with self._lock:
            namespace = vars(owner)
            current = namespace.get(name)
            if current is None or is_patched(current):
                return False
            wrapper = make(current)
            functools.update_wrapper(wrapper, current)
            setattr(wrapper, _MARK, current)
            setattr(owner, name, wrapper)
            self._applied.append(_Applied(owner, name, current))
            return True

    def restore(self) -> None:
        """Put every original back, newest first."""
        with self._lock:
            for applied in reversed(self._applied):
                if is_patched(vars(applied.owner).get(applied.name)):
                    setattr(applied.owner, applied.name, applied.original)
            self._applied.clear()


def is_patched(function: object) -> bool:
    return hasattr(function, _MARK)


def original_of(function: Any) -> Any:
    """The function a wrapper replaced (the function itself if it is not a wrapper)."""
    return getattr(function, _MARK, function)
