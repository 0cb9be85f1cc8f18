"""The models a deployment serves, loaded through ``mltrail.models.load`` (every file verified against its
registered sha256 before anything is deserialized), and how one of them is called on rows. A model
registered with an input example has a signature: its columns are what requests must carry."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail.sdk.flavors import LoadedModel
from mltrail.sdk.registry import models
from mltrail.settings import Settings

__all__ = ["ModelTimeoutError", "Variant", "load_variant"]


class ModelTimeoutError(Exception):
    """The model did not answer within the deployment's budget."""


@dataclass
class Variant:
    """One loaded model: the reference the spec names, the version it resolved to, and a thread pool that
    runs its ``predict`` so a budget can be enforced (a hanging call keeps one thread, not the request)."""

    ref: str
    version: str  # "churn:3"
    model: LoadedModel
    columns: tuple[str, ...] = ()
    kinds: dict[str, str] = field(default_factory=dict)
    pool: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="mltrail-model")
    )

    def predict(self, rows: Sequence[dict[str, Any]], timeout: float | None) -> list[Any]:
        """The model's answers for ``rows`` (one per row), within ``timeout`` seconds; the model's own
        exception, or ``ModelTimeoutError``."""
        frame = _frame(rows, self.columns)
        future = self.pool.submit(self.model.predict, frame)
        try:
            raw = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ModelTimeoutError(
                f"{self.version} did not answer within {(timeout or 0) * 1000:g} ms"
            ) from None
        answers = raw.tolist() if hasattr(raw, "tolist") else list(raw)
        if len(answers) != len(rows):
            raise ValueError(f"{self.version} gave {len(answers)} answers for {len(rows)} rows")
        return [a[0] if isinstance(a, list) and len(a) == 1 else a for a in answers]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Any:
    import pandas as pd

    if columns:
        return pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=list(columns))
    return pd.DataFrame(list(rows))


def load_variant(ref: str, settings: Settings, *, trust: bool = False) -> Variant:
    """The version ``ref`` names now, downloaded and verified; the version is pinned first so that the
    model loaded is the one recorded even if the alias moves meanwhile."""
    version = models.get(ref, settings=settings)
    pinned = f"{version.model}:{version.version}"
    loaded = models.load(pinned, trust=trust, settings=settings)
    columns: tuple[str, ...] = ()
    kinds: dict[str, str] = {}
    signature = loaded.signature
    if signature is not None and signature.inputs.layout == "dataframe":
        columns = tuple(f.name for f in signature.inputs.fields if f.name is not None)
        kinds = {f.name: f.kind for f in signature.inputs.fields if f.name is not None}
    return Variant(ref=ref, version=pinned, model=loaded, columns=columns, kinds=kinds)
