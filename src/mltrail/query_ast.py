"""The syntax tree of the run filter language; ``query.parse_filter`` builds it, the store compiles it.

See docs/FILTERS.md for the language itself.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ATTRIBUTES",
    "NAMESPACES",
    "And",
    "Comparison",
    "Exists",
    "Expr",
    "FieldRef",
    "Not",
    "Or",
    "Scalar",
]

Scalar = str | int | float | bool | None

# Namespaced fields: `params.lr`, `metrics.acc`, `tags.team`, `summary.best_acc`.
NAMESPACES = ("params", "metrics", "tags", "summary")
# Plain run attributes usable without a namespace: `status = "finished"`, `duration > 60`; `git.commit` and
# `git.branch` are the code version the run captured (its context's ``git``), null when none was.
ATTRIBUTES = (
    "id",
    "name",
    "status",
    "user",
    "start_time",
    "end_time",
    "duration",
    "project",
    "git.commit",
    "git.branch",
)


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``namespace`` is one of NAMESPACES or ``"attr"`` for ATTRIBUTES.

    ``agg`` is ``last``, ``min`` or ``max`` and only differs from ``last`` for metrics
    (written ``min(metrics.loss)``).
    """

    namespace: str
    key: str
    agg: str = "last"

    def __str__(self) -> str:
        base = self.key if self.namespace == "attr" else f"{self.namespace}.{self.key}"
        return base if self.agg == "last" else f"{self.agg}({base})"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``op`` is one of ``= != < <= > >= in not_in contains``; for ``in``/``not_in`` value is a tuple."""

    field: FieldRef
    op: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Exists:
    """``tags.baseline exists``: the run has this param, tag, metric or summary key."""

    field: FieldRef


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


Expr = Comparison | Exists | And | Or | Not
