"""Monitors that follow an alias or stage (``churn@production``, ``churn@champion``) instead of one version.

When a batch lands, the monitor's alias is resolved through the registry's part of the store; when it names
another version, the monitor moves to it: its run, the run's training metrics and — when the reference came
from lineage — the new run's training-dataset profile. Features, segments, validation rules and drift
options stay. The move and its history entry are one store transaction, a compare-and-set on the version,
so two processes seeing the same move record it once. An alias that was deleted or names nothing keeps the
current binding: following never fails an ingestion.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Sequence

from mltrail.entities import ModelVersion, Monitor, Run
from mltrail.errors import InvalidInputError, MltrailError, NotFoundError
from mltrail.services.monitoring.kinds import output_as, output_kind
from mltrail.services.registry.checks import parse_model_ref
from mltrail.stats.profile import DatasetProfile
from mltrail.store.monitoring import MonitorStore
from mltrail.store.registry import RegistryStore
from mltrail.store.tracking import TrackingStore

__all__ = [
    "FOLLOW_EVERY",
    "LINEAGE_SOURCE",
    "AliasFollower",
    "followed_alias",
    "training_metrics",
    "training_profile",
    "watched_reference",
]

log = logging.getLogger(__name__)

# How often an embedded process (the service's ``cache=True``) looks the alias up; a server (``cache=False``)
# looks it up on every batch, as it reads the monitor itself on every request.
FOLLOW_EVERY = 30.0
# How ``reference_source`` starts when the reference is a run's training dataset (followed on a move).
LINEAGE_SOURCE = "train dataset"


def followed_alias(ref: str) -> str | None:
    """What a monitor created from ``ref`` follows: the alias or stage after ``@`` (``churn@production`` →
    ``production``); None for a fixed version (``churn:3``) or the newest one (``churn``)."""
    parsed = parse_model_ref(ref)
    if parsed.alias is not None:
        return parsed.alias
    return None if parsed.stage is None else parsed.stage.value


def training_metrics(run: Run) -> dict[str, float]:
    """A run's last value of each metric it logged, system metrics and non-finite values left out."""
    return {k: s.last for k, s in run.metrics.items() if not k.startswith("sys/") and math.isfinite(s.last)}


def training_profile(runs: TrackingStore, run_id: str) -> tuple[DatasetProfile, str] | None:
    """The drift profile of the run's training dataset, with where it came from; None without one."""
    for link in runs.list_run_datasets(run_id):
        if link.role != "train":
            continue
        raw = runs.get_dataset_profile(link.dataset.id)
        if raw is not None:
            source = f"{LINEAGE_SOURCE} {link.dataset.name} v{link.dataset.version}"
            return DatasetProfile.from_bytes(raw), source
    return None


def watched_reference(reference: DatasetProfile, features: Sequence[str], prediction: str) -> DatasetProfile:
    """The reference restricted to the watched columns: a training label or id column would show as missing
    (and drifted) in every window of traffic, which never carries it."""
    keep = {*features, prediction}
    return DatasetProfile(reference.rows, {c: col for c, col in reference.columns.items() if c in keep})


class AliasFollower:
    """Keeps monitors on the version their alias names. ``every``: seconds between two look-ups of one
    monitor's alias (None: on every call)."""

    def __init__(
        self, store: MonitorStore, *, registry: RegistryStore, runs: TrackingStore, every: float | None
    ) -> None:
        self.store = store
        self.registry = registry
        self.runs = runs
        self.every = every
        self._checked: dict[int, float] = {}
        self._lock = threading.Lock()

    def forget(self, monitor_id: int) -> None:
        with self._lock:
            self._checked.pop(monitor_id, None)

    def _due(self, monitor: Monitor, now: float) -> bool:
        if self.every is None:
            return True
        with self._lock:
            last = self._checked.get(monitor.id)
            if last is not None and 0 <= now - last < self.every:
                return False
            self._checked[monitor.id] = now
            return True

    def follow(self, monitor: Monitor, *, now: float) -> Monitor:
        """The monitor on the version its alias names now (moved there when the alias moved; re-read from
        the store when another process moved it). The monitor as given when it follows nothing, was looked
        at less than ``every`` seconds ago, or its alias names no version."""
        if monitor.alias is None or monitor.model is None or not self._due(monitor, now):
            return monitor
        target = self._resolve(monitor.model, monitor.alias)
        if target is None or target.version == monitor.version:
            return monitor
        try:
            return self._rebind(monitor, target, now)
        except Exception:  # the batch must still land, on the current binding; the next look-up retries
            log.exception("monitor %s: could not move to %s:%s", monitor.name, target.model, target.version)
            return monitor

    def _resolve(self, model: str, alias: str) -> ModelVersion | None:
        try:
            ref = parse_model_ref(f"{model}@{alias}")
            if ref.alias is not None:
                return self.registry.get_version_by_alias(model, ref.alias)
            versions, _ = self.registry.list_model_versions(model, stage=ref.stage, limit=1)
        except MltrailError:  # the alias was deleted, or the model
            return None
        return versions[0] if versions else None

    def _rebind(self, monitor: Monitor, target: ModelVersion, now: float) -> Monitor:
        metrics: dict[str, float] = {}
        reference: bytes | None = None
        source: str | None = None
        if target.run_id is not None:
            with contextlib.suppress(NotFoundError):  # a deleted run: the version still names it
                metrics = training_metrics(self.runs.get_run(target.run_id))
            if monitor.reference_source.startswith(LINEAGE_SOURCE):
                found = self._reference(monitor, target)
                if found is not None:
                    reference, source = found
        moved, switched = self.store.rebind_monitor(
            monitor.name,
            expected_version=monitor.version,
            version=target.version,
            run_id=target.run_id,
            training_metrics=metrics,
            since=now,
            reference=reference,
            reference_source=source,
        )
        if switched:
            log.info(
                "monitor %s follows %s@%s: v%s → v%s",
                monitor.name,
                monitor.model,
                monitor.alias,
                monitor.version,
                target.version,
            )
        return moved

    def _reference(self, monitor: Monitor, target: ModelVersion) -> tuple[bytes, str] | None:
        """The new run's training profile over the watched columns; None (the current reference stays) when
        it has none or lacks a watched feature."""
        found = training_profile(self.runs, target.run_id) if target.run_id is not None else None
        if found is None:
            log.warning(
                "monitor %s: %s:%s has no training profile", monitor.name, target.model, target.version
            )
            return None
        profile, source = found
        missing = [f for f in monitor.features if f not in profile.columns]
        if missing:
            log.warning(
                "monitor %s: the training data of %s:%s lacks %s; the reference stays",
                monitor.name,
                target.model,
                target.version,
                ", ".join(missing),
            )
            return None
        watched = watched_reference(profile, monitor.features, monitor.prediction)
        # The windows hold the output in one kind: the new version's is read as it (codes as labels), or
        # left out when it cannot be (then the output's reference is the first whole day since the move).
        try:
            watched = output_as(watched, monitor.prediction, output_kind(monitor))
        except InvalidInputError:
            log.warning(
                "monitor %s: the output of %s:%s is of another kind",
                monitor.name,
                target.model,
                target.version,
            )
            watched.columns.pop(monitor.prediction, None)
        return watched.to_bytes(), source
