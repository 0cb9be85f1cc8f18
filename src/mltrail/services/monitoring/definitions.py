"""Monitor definitions: monitors created (of a registered version, its reference profiled from its
training data), read, updated, calibrated for performance estimation, given a new reference, deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import GRANULARITIES, AlertRule, Monitor
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.monitoring.alias import training_metrics, training_profile, watched_reference
from mltrail.services.monitoring.core import MonitoringCore
from mltrail.services.monitoring.estimation import (
    calibration_from_table,
    check_calibration,
    validated_calibration,
)
from mltrail.services.monitoring.figures import drift_options
from mltrail.services.monitoring.inputs import signature_inputs, to_table
from mltrail.services.monitoring.raw import lake_folder
from mltrail.services.monitoring.reference import replace_reference, run_reference, segment_references
from mltrail.services.monitoring.segments import parse_segment
from mltrail.services.monitoring.validation import infer_schema, validate_schema
from mltrail.services.registry.checks import parse_model_ref, validate_model_name
from mltrail.stats.profile import DatasetProfile

__all__ = ["MonitorDefinitions"]


class MonitorDefinitions(MonitoringCore):
    """Creating, reading, changing and deleting monitors (part of ``MonitoringService``)."""

    def create_monitor(
        self,
        name: str,
        *,
        project: str,
        reference: DatasetProfile,
        reference_source: str,
        features: Sequence[str] | None = None,
        prediction: str = "prediction",
        task: str = "classification",
        granularity: str = "day",
        segments: Sequence[str] = (),
        drift: Mapping[str, Any] | None = None,
        schema: Mapping[str, Any] | None = None,
        model: str | None = None,
        version: int | None = None,
        run_id: str | None = None,
        training_metrics: Mapping[str, float] | None = None,
        created_by: str | None = None,
        alias: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        validate_model_name(name)
        if granularity not in GRANULARITIES:
            raise InvalidInputError(
                f"granularity must be one of {', '.join(GRANULARITIES)}", field="granularity"
            )
        if task not in ("classification", "regression"):
            raise InvalidInputError("task must be classification or regression", field="task")
        watched = list(features) if features else [c for c in reference.columns if c != prediction]
        missing = [f for f in watched if f not in reference.columns]
        if missing:
            raise InvalidInputError(f"features not in the reference: {', '.join(missing)}", field="features")
        for spec in segments:
            parse_segment(spec)
        options = dict(drift or {})
        drift_options(options)
        kept = DatasetProfile(reference.rows, {c: reference.columns[c] for c in watched})
        rules = validate_schema(schema) if schema is not None else infer_schema(kept)
        compared = watched_reference(reference, watched, prediction)
        if calibration is not None:
            calibration = validated_calibration(
                calibration, task=task, features=watched, prediction=prediction
            )
        return self.store.create_monitor(
            name=name,
            project=project,
            model=model,
            version=version,
            run_id=run_id,
            features=watched,
            prediction=prediction,
            task=task,
            granularity=granularity,
            segments=list(segments),
            schema=rules,
            drift=options,
            training_metrics=dict(training_metrics or {}),
            reference=compared.to_bytes(),
            reference_source=reference_source,
            created_at=self.clock(),
            created_by=created_by,
            alias=alias,
            segment_references=segment_references(reference, segments, watched, prediction),
            calibration=calibration,
        )

    def create_for_version(
        self,
        name: str,
        *,
        model: str,
        version: int,
        run_id: str | None,
        signature: Mapping[str, Any] | None,
        reference: DatasetProfile | None = None,
        alias: str | None = None,
        **options: Any,
    ) -> Monitor:
        """A monitor of a registered version: the reference is the profile of its run's training dataset
        (unless given), the features the signature's inputs, the training metrics the run's own. With
        ``alias`` (``production`` for ``churn@production``) it follows that alias or stage from then on."""
        if alias is not None:
            parse_model_ref(f"{model}@{alias}", field="alias")
        source = "given"
        training: dict[str, float] = {}
        if run_id is not None:
            run = self.runs.get_run(run_id)
            project = options.pop("project", None) or run.project
            training = training_metrics(run)
            if reference is None and (found := training_profile(self.runs, run_id)) is not None:
                reference, source = found
        else:
            project = options.pop("project", None)
        if reference is None or project is None:
            raise InvalidInputError(
                f"{model}:{version} has no training dataset with a profile in its run's lineage: give a"
                " reference (a DataFrame or table of the training data)",
                field="reference",
            )
        features = options.pop("features", None) or signature_inputs(signature) or None
        return self.create_monitor(
            name,
            project=project,
            reference=reference,
            reference_source=source,
            features=features,
            model=model,
            version=version,
            run_id=run_id,
            training_metrics=training,
            alias=alias,
            **options,
        )

    def list_monitors(self, *, projects: Sequence[str] | None = None) -> list[Monitor]:
        """Monitors by name (of ``projects`` when given)."""
        return self.store.list_monitors(projects=projects)

    def get_by_id(self, monitor_id: int) -> Monitor:
        """The monitor with this id (the store indexes monitors by name; there are few of them)."""
        for monitor in self.store.list_monitors():
            if monitor.id == monitor_id:
                return monitor
        raise NotFoundError(f"no monitor with id {monitor_id}")

    def find_rule(self, rule_id: int) -> tuple[Monitor, AlertRule]:
        """An active alert rule and its monitor; NotFoundError for a deleted or unknown one."""
        for monitor in self.store.list_monitors():
            for rule in self.store.list_alert_rules(monitor.id):
                if rule.id == rule_id:
                    return monitor, rule
        raise NotFoundError(f"no alert rule {rule_id}")

    def update(self, name: str, **changes: Any) -> Monitor:
        if changes.get("schema") is not None:
            changes["schema"] = validate_schema(changes["schema"])
        if changes.get("drift") is not None:
            drift_options(changes["drift"])
        for spec in changes.get("segments") or ():
            parse_segment(spec)
        self._forget(name)
        return self.store.update_monitor(name, **changes)

    def calibrate(self, name: str, calibration: Mapping[str, Any]) -> Monitor:
        """Keep a calibration for performance estimation (``stats.estimation``, fitted from a labelled
        reference by ``calibration_from_table``); it replaces the one kept. Every stored window is then
        estimated under it, from its histograms: nothing is re-read. (A regression's loss model applies to
        the batches ingested after it.)"""
        monitor = self.require(name)
        doc = check_calibration(calibration, monitor)
        self._forget(name)
        return self.store.update_monitor(name, calibration=doc)

    def calibrate_from(self, name: str, data: Any, *, label: str, prediction: str | None = None) -> Monitor:
        """Fit the calibration on reference rows with labels (``label``), predicted classes (the monitor's
        prediction column unless ``prediction``) and probabilities (``score`` or ``score_<class>``), and
        keep it: the one call for anything that replaces a monitor's reference with labelled rows."""
        monitor = self.require(name)
        doc = calibration_from_table(
            to_table(data),
            label=label,
            prediction=prediction or monitor.prediction,
            task=monitor.task,
            features=monitor.features,
        )
        return self.calibrate(name, doc)

    def set_reference(
        self,
        name: str,
        *,
        reference: DatasetProfile | None = None,
        source: str | None = None,
        run_id: str | None = None,
    ) -> Monitor:
        """Replace the monitor's reference with ``reference`` (``source`` says where it came from, e.g.
        ``file ref.parquet``) or with the profile of a dataset run ``run_id`` logged, and compute the kept
        figures again (``monitoring/reference.py``)."""
        if (reference is None) == (run_id is None):
            raise InvalidInputError("give exactly one of a reference and a run", field="reference")
        monitor = self.store.get_monitor(name)
        if run_id is not None:
            reference, source = run_reference(self.runs, run_id, monitor)
        assert reference is not None
        self._forget(name)
        updated = replace_reference(
            self.store,
            monitor,
            reference,
            source or "given",
            baseline=self._baseline,
            after=self._after_ingest,
        )
        self._forget(name)
        return updated

    def delete(self, name: str) -> None:
        """Delete the monitor, and its raw batches' lake folder (a new monitor of the name starts empty)."""
        self._forget(name)
        self.store.delete_monitor(name)
        self.blobs.remove_named(lake_folder(name))

    def lake_url(self, name: str) -> str:
        """Where the monitor's raw batches lie as Hive-partitioned Parquet (``monitoring/raw.py``), for
        Spark, DuckDB or pyarrow to read: ``…/lake/monitor=<name>`` (its ``day=…`` folders below)."""
        return self.blobs.url(lake_folder(self.require(name).name))
