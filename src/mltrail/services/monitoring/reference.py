"""A monitor's reference: built from a profile (the segments' own profiles included), read from a run's
logged datasets, and replaced at any time (``mltrail monitor set-reference``).

Replacing it swaps the reference profile and the segment references, names the new source (on the version
watched now too), forgets every kept window figure and computes them again against the new reference, then
evaluates the alert rules at the newest window. A new reference without the model's output has it added
from the first whole day of traffic again (``baseline.py``). A reference set by hand stays when a monitor
of an alias moves to another version (only a reference from lineage follows the version).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mltrail.entities import Monitor
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.alias import watched_reference
from mltrail.services.monitoring.baseline import OutputBaseline
from mltrail.services.monitoring.figures import figures_for
from mltrail.services.monitoring.kinds import output_as, output_kind
from mltrail.services.monitoring.segments import parse_segment
from mltrail.stats.profile import DatasetProfile
from mltrail.store.monitoring import MonitorStore, SegmentReferences
from mltrail.store.tracking import TrackingStore

__all__ = [
    "RUN_SOURCE",
    "replace_reference",
    "run_reference",
    "segment_references",
]

# ``reference_source`` of a reference taken from a run's dataset by ``set-reference --from-run``.
RUN_SOURCE = "run"
# Which of a run's datasets a reference is read from, in order, when several hold the watched columns:
# one that also holds the model's output first, then evaluation data before training data.
_ROLES = ("validation", "test", "other", "train")


def segment_references(
    reference: DatasetProfile, segments: Sequence[str], watched: Sequence[str], prediction: str
) -> SegmentReferences | None:
    """The reference's own profiles of the monitor's segments (``DatasetProfile.segments``, built by
    ``segments.profile_reference`` from reference rows), restricted to the watched columns; None when the
    reference has none (a training dataset's profile from lineage)."""
    specs = [parse_segment(s).spec for s in segments]
    covered = [s for s in specs if s in reference.segments]
    if not covered:
        return None
    profiles: dict[str, bytes | None] = {}
    for spec in covered:
        for name, part in reference.segments[spec].items():
            profiles[name] = None if part is None else watched_reference(part, watched, prediction).to_bytes()
    return SegmentReferences(frozenset(covered), profiles)


def run_reference(runs: TrackingStore, run_id: str, monitor: Monitor) -> tuple[DatasetProfile, str]:
    """The profile of the run's logged dataset to compare the monitor's traffic with, and its source: of
    the datasets holding every watched feature, one with the output column first, then by role
    (validation, test, other, train). ``InvalidInputError`` naming ``run`` when none fits."""
    run = runs.get_run(run_id)
    candidates: list[tuple[int, int, DatasetProfile, str]] = []
    for link in runs.list_run_datasets(run.id):
        raw = runs.get_dataset_profile(link.dataset.id)
        if raw is None:
            continue
        profile = DatasetProfile.from_bytes(raw)
        if any(f not in profile.columns for f in monitor.features):
            continue
        rank = _ROLES.index(link.role) if link.role in _ROLES else len(_ROLES)
        source = f"{RUN_SOURCE} {run.id}: {link.role} dataset {link.dataset.name} v{link.dataset.version}"
        candidates.append((monitor.prediction not in profile.columns, rank, profile, source))
    if not candidates:
        raise InvalidInputError(
            f"run {run.id} logged no dataset with a profile holding {', '.join(monitor.features)}: log one"
            " with run.log_dataset(...), or give a file",
            field="run",
        )
    _, _, profile, source = min(candidates, key=lambda c: (c[0], c[1]))
    return profile, source


def replace_reference(
    store: MonitorStore,
    monitor: Monitor,
    reference: DatasetProfile,
    source: str,
    *,
    baseline: OutputBaseline,
    after: Callable[[Monitor, Sequence[float]], object] | None = None,
) -> Monitor:
    """``monitor`` compared with ``reference`` from now on, its kept figures computed again (see above)."""
    if not source.strip():
        raise InvalidInputError("say where the reference comes from", field="reference_source")
    missing = [f for f in monitor.features if f not in reference.columns]
    if missing:
        raise InvalidInputError(
            f"the reference lacks the watched features {', '.join(missing)}", field="reference"
        )
    # The windows hold the output in one kind: class codes 0/1 are seen as labels "0"/"1" and back.
    reference = output_as(reference, monitor.prediction, output_kind(monitor))
    watched = list(monitor.features)
    updated = store.replace_reference(
        monitor.name,
        reference=watched_reference(reference, watched, monitor.prediction).to_bytes(),
        reference_source=source.strip(),
        segment_references=segment_references(reference, monitor.segments, watched, monitor.prediction),
    )
    baseline.forget(updated.id)
    updated = baseline.ensure(updated)  # no output in it: the first whole day of traffic again
    windows = store.list_windows(updated.id, updated.granularity, segment=None)
    figures_for(store, updated, windows, force=True)
    if windows and after is not None:
        after(updated, (windows[-1].start,))
    return updated
