"""Monitors, their windows (merged profiles), predictions kept for the label join, and raw-batch index."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Monitor, MonitorVersion, MonitorWindow, PredictionBatch
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.monitoring import LabelMatch, PredictionRow, SegmentReferences, WindowDelta
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, chunks, reads, writes
from mltrail.store.sql.monitor_rows import CONFIG_KEYS, dump_history, monitor_of, window_of

__all__ = ["MonitorsMixin"]

_MON = t.monitors.c
# How long a batch's idempotency key is kept: a client retries within minutes; a week is generous.
INGEST_KEY_SECONDS = 7 * 86400.0
_W = t.monitor_windows.c
_P = t.monitor_predictions.c
_SEP = "\x1f"  # between the segment names of one kept prediction (no segment name holds it)


class MonitorsMixin(SqlBase):
    _MONITOR_QUERY = sa.select(t.monitors, t.projects.c.name.label("project")).select_from(
        t.monitors.join(t.projects)
    )

    def _load_monitor(self, conn: Connection, name: str, *, lock: bool = False) -> Monitor:
        query = self._MONITOR_QUERY.where(_MON.name == name)
        if lock:
            query = query.with_for_update(of=t.monitors)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError(f"no monitor {name!r}")
        return monitor_of(row)

    @writes
    def set_dataset_profile(self, conn: Connection, dataset_version_id: int, profile: bytes) -> None:
        stmt = self._insert(t.dataset_profiles).values(dataset_version_id=dataset_version_id, profile=profile)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["dataset_version_id"]))

    @reads
    def get_dataset_profile(self, conn: Connection, dataset_version_id: int) -> bytes | None:
        found = conn.execute(
            sa.select(t.dataset_profiles.c.profile).where(
                t.dataset_profiles.c.dataset_version_id == dataset_version_id
            )
        ).scalar_one_or_none()
        return None if found is None else bytes(found)

    @writes
    def create_monitor(
        self,
        conn: Connection,
        *,
        name: str,
        project: str,
        model: str | None,
        version: int | None,
        run_id: str | None,
        features: Sequence[str],
        prediction: str,
        task: str,
        granularity: str,
        segments: Sequence[str],
        schema: Mapping[str, Any],
        drift: Mapping[str, Any],
        training_metrics: Mapping[str, float],
        reference: bytes,
        reference_source: str,
        created_at: float,
        created_by: str | None,
        alias: str | None = None,
        segment_references: SegmentReferences | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        project_id = self._ensure_project(conn, project)
        history = [] if version is None else [MonitorVersion(version, run_id, created_at, reference_source)]
        config = {
            "features": list(features),
            "prediction": prediction,
            "task": task,
            "granularity": granularity,
            "segments": list(segments),
            "schema": dict(schema),
            "drift": dict(drift),
            "training_metrics": dict(training_metrics),
        }
        if calibration:
            config["calibration"] = dict(calibration)
        stmt = (
            self._insert(t.monitors)
            .values(
                name=name,
                project_id=project_id,
                model=model,
                version=version,
                run_id=run_id,
                config=dump_json(config),
                reference=reference,
                reference_source=reference_source,
                unmatched_labels=0,
                created_at=created_at,
                created_by=created_by,
                alias=alias,
                versions=dump_history(history),
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_MON.id)
        )
        created = conn.execute(stmt).first()
        if created is None:
            raise ConflictError(f"a monitor named {name!r} exists already")
        if segment_references is not None:
            self._insert_segment_references(conn, created.id, segment_references)
        return self._load_monitor(conn, name)

    @staticmethod
    def _insert_segment_references(conn: Connection, monitor_id: int, refs: SegmentReferences) -> None:
        rows: list[dict[str, Any]] = [
            {"monitor_id": monitor_id, "spec": spec, "segment": "", "profile": None}
            for spec in sorted(refs.specs)
        ]
        owner = _spec_of(refs.specs)
        rows += [
            {"monitor_id": monitor_id, "spec": owner(segment), "segment": segment, "profile": profile}
            for segment, profile in refs.profiles.items()
        ]
        for chunk in chunks(rows, 200):
            conn.execute(t.monitor_segment_references.insert(), chunk)

    @reads
    def get_segment_references(
        self, conn: Connection, monitor_id: int, segments: Sequence[str] | None = None
    ) -> SegmentReferences:
        refs = t.monitor_segment_references.c
        specs: set[str] = set()
        profiles: dict[str, bytes | None] = {}
        query = sa.select(refs.spec, refs.segment, refs.profile).where(refs.monitor_id == monitor_id)
        if segments is not None:
            query = query.where(refs.segment.in_(["", *segments]))
        for row in conn.execute(query):
            if row.segment == "":
                specs.add(row.spec)
            else:
                profiles[row.segment] = None if row.profile is None else bytes(row.profile)
        return SegmentReferences(frozenset(specs), profiles)

    @reads
    def get_monitor(self, conn: Connection, name: str) -> Monitor:
        return self._load_monitor(conn, name)

    @reads
    def list_monitors(self, conn: Connection, *, projects: Sequence[str] | None = None) -> list[Monitor]:
        query = self._MONITOR_QUERY.order_by(_MON.name)
        if projects is not None:
            query = query.where(t.projects.c.name.in_(list(projects)))
        return [monitor_of(row) for row in conn.execute(query)]

    @writes
    def update_monitor(
        self,
        conn: Connection,
        name: str,
        *,
        schema: Mapping[str, Any] | None = None,
        drift: Mapping[str, Any] | None = None,
        segments: Sequence[str] | None = None,
        reference: bytes | None = None,
        reference_source: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        current = self._load_monitor(conn, name, lock=True)
        row = conn.execute(sa.select(_MON.config).where(_MON.id == current.id)).scalar_one()
        config = load_json(row) or {}
        if schema is not None:
            config["schema"] = dict(schema)
        if drift is not None:
            config["drift"] = dict(drift)
        if segments is not None:
            config["segments"] = list(segments)
        if calibration is not None:
            config["calibration"] = dict(calibration) or None
        values: dict[str, Any] = {"config": dump_json({k: config[k] for k in CONFIG_KEYS if k in config})}
        if reference is not None:
            values["reference"] = reference
        if reference_source is not None:
            values["reference_source"] = reference_source
        conn.execute(t.monitors.update().where(_MON.id == current.id).values(**values))
        return self._load_monitor(conn, name)

    @writes
    def delete_monitor(self, conn: Connection, name: str) -> None:
        monitor = self._load_monitor(conn, name, lock=True)
        alert_ids = sa.select(t.alerts.c.id).where(t.alerts.c.monitor_id == monitor.id).scalar_subquery()
        conn.execute(t.alert_notifications.delete().where(t.alert_notifications.c.alert_id.in_(alert_ids)))
        for table in (
            t.alerts,
            t.alert_rules,
            t.monitor_windows,
            t.monitor_predictions,
            t.monitor_batches,
            t.monitor_ingest_keys,
            t.monitor_segment_references,
        ):
            conn.execute(table.delete().where(table.c.monitor_id == monitor.id))
        conn.execute(t.monitors.delete().where(_MON.id == monitor.id))

    # -- windows ----------------------------------------------------------------------------------------
    def _claim_key(self, conn: Connection, monitor_id: int, key: str, now: float) -> bool:
        """Record a client's idempotency key in the caller's transaction: False when it was recorded before
        (kept ``INGEST_KEY_SECONDS``; older keys of the monitor go now)."""
        keys = t.monitor_ingest_keys.c
        claimed = conn.execute(
            self._insert(t.monitor_ingest_keys)
            .values(monitor_id=monitor_id, key=key, at=now)
            .on_conflict_do_nothing()
            .returning(keys.key)
        ).first()
        if claimed is None:
            return False
        conn.execute(
            t.monitor_ingest_keys.delete().where(
                (keys.monitor_id == monitor_id) & (keys.at < now - INGEST_KEY_SECONDS)
            )
        )
        return True

    @writes
    def merge_windows(
        self,
        conn: Connection,
        monitor_id: int,
        deltas: Sequence[WindowDelta],
        merge: Callable[[bytes, bytes], bytes],
        *,
        now: float,
        batch_key: str | None = None,
        merge_estimation: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None,
    ) -> bool:
        if batch_key is not None and not self._claim_key(conn, monitor_id, batch_key, now):
            return False  # this batch was merged before: nothing to do
        # Rows are locked in key order so two ingesters of one monitor cannot deadlock.
        for delta in sorted(deltas, key=lambda d: (d.granularity, d.segment, d.start)):
            key = (
                (_W.monitor_id == monitor_id)
                & (_W.granularity == delta.granularity)
                & (_W.segment == delta.segment)
                & (_W.start == delta.start)
            )
            row = conn.execute(
                sa.select(_W.rows, _W.profile, _W.violations, _W.estimation).where(key).with_for_update()
            ).one_or_none()
            if row is None:
                inserted = conn.execute(
                    self._insert(t.monitor_windows)
                    .values(
                        monitor_id=monitor_id,
                        granularity=delta.granularity,
                        segment=delta.segment,
                        start=delta.start,
                        rows=delta.rows,
                        profile=delta.profile,
                        violations=dump_json(dict(delta.violations)),
                        performance="{}",
                        estimation=dump_json(dict(delta.estimation or {})),
                        updated_at=now,
                    )
                    .on_conflict_do_nothing()
                    .returning(_W.rows)
                )
                # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING
                if inserted.first() is not None:
                    continue
                # a concurrent ingester created it first: merge into theirs
                row = conn.execute(
                    sa.select(_W.rows, _W.profile, _W.violations, _W.estimation).where(key).with_for_update()
                ).one()
            violations = dict(load_json(row.violations) or {})
            for rule, count in delta.violations.items():
                violations[rule] = violations.get(rule, 0) + int(count)
            values: dict[str, Any] = {
                "rows": int(row.rows) + delta.rows,
                "profile": merge(bytes(row.profile), delta.profile),
                "violations": dump_json(violations),
                "updated_at": now,
            }
            if delta.estimation:
                stored = load_json(row.estimation) or {}
                if merge_estimation is None:
                    raise ValueError("merge_windows needs merge_estimation for deltas with estimation")
                values["estimation"] = dump_json(merge_estimation(stored, delta.estimation))
            conn.execute(t.monitor_windows.update().where(key).values(**values))
        return True

    @writes
    def add_performance(
        self,
        conn: Connection,
        monitor_id: int,
        updates: Mapping[str, Mapping[tuple[str, float], Mapping[str, Any]]],
        merge: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
        *,
        now: float,
        batch_key: str | None = None,
    ) -> bool:
        if batch_key is not None and not self._claim_key(conn, monitor_id, batch_key, now):
            return False  # these accumulators were merged before: nothing to do
        # (granularity, segment, start) order: the same key order as merge_windows locks rows in
        for granularity in sorted(updates):
            by_window = updates[granularity]
            for segment, start in sorted(by_window):
                key = (
                    (_W.monitor_id == monitor_id)
                    & (_W.granularity == granularity)
                    & (_W.segment == segment)
                    & (_W.start == start)
                )
                stored = conn.execute(
                    sa.select(_W.performance).where(key).with_for_update()
                ).scalar_one_or_none()
                if stored is None:  # labels for a window whose predictions were never profiled: skip
                    continue
                merged = merge(load_json(stored) or {}, by_window[(segment, start)])
                # updated_at stays: it marks the profile the kept drift figures were computed from, which
                # labels leave alone (bumping it made every labelled window, of every segment too, compute
                # again).
                conn.execute(t.monitor_windows.update().where(key).values(performance=dump_json(merged)))
        return True

    @writes
    def set_window_figures(
        self,
        conn: Connection,
        monitor_id: int,
        granularity: str,
        segment: str,
        start: float,
        figures: Mapping[str, Any],
        *,
        computed_for: float,
    ) -> bool:
        result = conn.execute(
            t.monitor_windows.update()
            .where(
                _W.monitor_id == monitor_id,
                _W.granularity == granularity,
                _W.segment == segment,
                _W.start == start,
                _W.updated_at == computed_for,  # a window changed since is left for the next computation
            )
            .values(figures=dump_json(dict(figures)), figures_at=computed_for)
        )
        return bool(result.rowcount)

    @reads
    def list_windows(
        self,
        conn: Connection,
        monitor_id: int,
        granularity: str,
        *,
        segment: str | None = "",
        since: float | None = None,
        until: float | None = None,
        profiles: bool = True,
    ) -> list[MonitorWindow]:
        columns = t.monitor_windows.c if profiles else [c for c in t.monitor_windows.c if c.name != "profile"]
        query = sa.select(*columns).where(_W.monitor_id == monitor_id, _W.granularity == granularity)
        if segment is not None:
            query = query.where(_W.segment == segment)
        if since is not None:
            query = query.where(_W.start >= since)
        if until is not None:
            query = query.where(_W.start < until)
        return [window_of(row) for row in conn.execute(query.order_by(_W.start, _W.segment))]

    # -- predictions and labels -------------------------------------------------------------------------
    @writes
    def record_predictions(self, conn: Connection, monitor_id: int, rows: Sequence[PredictionRow]) -> int:
        new = 0
        for part in chunks(list(rows), 2000):
            stmt = self._insert(t.monitor_predictions).on_conflict_do_nothing().returning(_P.request_id)
            result = conn.execute(
                stmt,
                [
                    {
                        "monitor_id": monitor_id,
                        "request_id": r.request_id,
                        "time": r.time,
                        "score": r.score,
                        "predicted": r.predicted,
                        "segments": _SEP.join(r.segments) if r.segments else None,
                    }
                    for r in part
                ],
            )
            new += len(result.all())
        return new

    @writes
    def match_labels(
        self,
        conn: Connection,
        monitor_id: int,
        labels: Sequence[tuple[str, str | None, float | None]],
        *,
        now: float,
    ) -> tuple[list[LabelMatch], int]:
        by_id = {request_id: (label, value) for request_id, label, value in labels}
        matches: list[LabelMatch] = []
        found: set[str] = set()
        for part in chunks(list(by_id)):
            rows = conn.execute(
                sa.select(_P.request_id, _P.time, _P.score, _P.predicted, _P.labeled_at, _P.segments).where(
                    _P.monitor_id == monitor_id, _P.request_id.in_(part)
                )
            ).all()
            for row in rows:
                found.add(row.request_id)
                label, value = by_id[row.request_id]
                if row.labeled_at is None:
                    segments = tuple(row.segments.split(_SEP)) if row.segments else ()
                    matches.append(
                        LabelMatch(
                            row.request_id, float(row.time), row.score, row.predicted, label, value, segments
                        )
                    )
            updates = [
                {"rid": rid, "label": by_id[rid][0], "value": by_id[rid][1]} for rid in part if rid in found
            ]
            if updates:
                conn.execute(
                    t.monitor_predictions.update()
                    .where(_P.monitor_id == monitor_id, _P.request_id == sa.bindparam("rid"))
                    .values(label=sa.bindparam("label"), label_value=sa.bindparam("value"), labeled_at=now),
                    updates,
                )
        unmatched = len(by_id) - len(found)
        if unmatched:
            conn.execute(
                t.monitors.update()
                .where(_MON.id == monitor_id)
                .values(unmatched_labels=_MON.unmatched_labels + unmatched)
            )
        return matches, unmatched

    @writes
    def add_prediction_batch(self, conn: Connection, batch: PredictionBatch) -> None:
        conn.execute(
            t.monitor_batches.insert().values(
                monitor_id=batch.monitor_id,
                day=batch.day,
                digest=batch.digest,
                rows=batch.rows,
                min_time=batch.min_time,
                max_time=batch.max_time,
                created_at=batch.created_at,
            )
        )

    @reads
    def list_prediction_batches(
        self, conn: Connection, monitor_id: int, *, since: float | None = None, until: float | None = None
    ) -> list[PredictionBatch]:
        b = t.monitor_batches.c
        query = sa.select(t.monitor_batches).where(b.monitor_id == monitor_id)
        if since is not None:
            query = query.where(b.max_time >= since)
        if until is not None:
            query = query.where(b.min_time < until)
        return [
            PredictionBatch(
                int(r.monitor_id),
                r.day,
                r.digest,
                int(r.rows),
                float(r.min_time),
                float(r.max_time),
                float(r.created_at),
            )
            for r in conn.execute(query.order_by(b.min_time, b.id))
        ]


def _spec_of(specs: frozenset[str]) -> Callable[[str], str]:
    """The spec a segment name belongs to: ``age < 25`` itself, ``country`` for ``country=DE``."""

    def owner(segment: str) -> str:
        if segment in specs:
            return segment
        column = segment.split("=", 1)[0]
        return column if column in specs else segment

    return owner
