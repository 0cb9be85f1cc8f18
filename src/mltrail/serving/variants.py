"""The models a deployment serves, loaded through ``mltrail.models.load`` (every file verified against its
registered sha256 before anything is deserialized), and how one of them is called on rows. A model
registered with an input example has a signature: its columns are what requests must carry.

With no budget a model is called on the caller's thread (a thread hop costs more than a small model's
prediction); with one, on the variant's pool, so that a hanging call keeps one pool thread and not the
request. ``SLOW_CALLS`` calls in a row slower than ``INLINE_SECONDS`` (or one timeout) mark the variant
``slow``: the app then keeps its requests off the event loop.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail.sdk.flavors import LoadedModel
from mltrail.sdk.registry import models
from mltrail.serving.inputs import array_estimator, to_array, to_frame
from mltrail.settings import Settings

__all__ = ["INLINE_SECONDS", "ModelTimeoutError", "Variant", "load_variant"]

INLINE_SECONDS = 0.005
SLOW_CALLS = 3


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
    # an estimator taking float arrays in ``columns`` order (``inputs.array_estimator``), else None
    array_model: Any = None
    slow: bool = False  # SLOW_CALLS calls in a row took more than INLINE_SECONDS, or one timed out
    _slow_calls: int = field(default=0, repr=False)

    def _call(self, rows: Sequence[dict[str, Any]]) -> Any:
        if self.array_model is not None:
            return self.array_model.predict(to_array(rows, self.columns))
        return self.model.predict(to_frame(rows, self.columns))

    def predict(self, rows: Sequence[dict[str, Any]], timeout: float | None) -> list[Any]:
        """The model's answers for ``rows`` (one per row), within ``timeout`` seconds; the model's own
        exception, or ``ModelTimeoutError``."""
        started = time.perf_counter()
        if timeout is None:
            raw = self._call(rows)
        else:
            future = self.pool.submit(self._call, rows)
            try:
                raw = future.result(timeout=timeout)
            except concurrent.futures.TimeoutError:
                future.cancel()
                self.slow = True
                raise ModelTimeoutError(
                    f"{self.version} did not answer within {timeout * 1000:g} ms"
                ) from None
        # Several slow calls in a row, not one: a single one may be the first call or the machine's
        # scheduler, and ``slow`` is for good.
        if time.perf_counter() - started > INLINE_SECONDS:
            self._slow_calls += 1
            self.slow = self.slow or self._slow_calls >= SLOW_CALLS
        else:
            self._slow_calls = 0
        answers = raw.tolist() if hasattr(raw, "tolist") else list(raw)
        if len(answers) != len(rows):
            raise ValueError(f"{self.version} gave {len(answers)} answers for {len(rows)} rows")
        return [a[0] if isinstance(a, list) and len(a) == 1 else a for a in answers]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


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
    return Variant(
        ref=ref,
        version=pinned,
        model=loaded,
        columns=columns,
        kinds=kinds,
        array_model=array_estimator(loaded, columns, kinds),
    )
