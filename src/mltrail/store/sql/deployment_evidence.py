"""What serving gateways observed per deployment variant, in SQL: each send replaces a replica's rows of
the windows it carries (delete, then insert, in one transaction), so a repeated send counts once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import EvidenceWindow, VariantCounts
from mltrail.errors import NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["DeploymentEvidenceMixin"]

_E = t.deployment_evidence.c
_D = t.deployments.c
_COUNTERS = ("requests", "rows", "errors", "fallbacks", "guarded", "dropped", "compared", "agreed", "numeric")


def _deployment_id(conn: Connection, name: str) -> int:
    found = conn.execute(sa.select(_D.id).where(_D.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no deployment {name!r}")
    return int(found)


def _counts_of(row: Any) -> VariantCounts:
    return VariantCounts(
        variant=row.variant,
        model=row.model,
        **{name: int(getattr(row, name)) for name in _COUNTERS},
        abs_diff=float(row.abs_diff),
        latency=load_json(row.latency) or {},
    )


class DeploymentEvidenceMixin(SqlBase):
    @writes
    def put_evidence(self, conn: Connection, name: str, windows: Sequence[EvidenceWindow]) -> int:
        deployment_id = _deployment_id(conn, name)
        values: list[dict[str, Any]] = []
        for window in windows:
            conn.execute(
                t.deployment_evidence.delete().where(
                    _E.deployment_id == deployment_id,
                    _E.start == window.start,
                    _E.replica == window.replica,
                    _E.spec_version == window.spec_version,
                )
            )
            for c in window.counts:
                values.append(
                    {
                        "deployment_id": deployment_id,
                        "start": window.start,
                        "replica": window.replica,
                        "variant": c.variant,
                        "model": c.model,
                        "spec_version": window.spec_version,
                        **{counter: getattr(c, counter) for counter in _COUNTERS},
                        "abs_diff": c.abs_diff,
                        "latency": dump_json(c.latency),
                    }
                )
        if values:
            conn.execute(t.deployment_evidence.insert(), values)
        return len(values)

    @reads
    def list_evidence(
        self,
        conn: Connection,
        name: str,
        *,
        since: float | None = None,
        until: float | None = None,
        spec_version: int | None = None,
        model: str | None = None,
    ) -> list[EvidenceWindow]:
        query = sa.select(t.deployment_evidence).where(_E.deployment_id == _deployment_id(conn, name))
        if since is not None:
            query = query.where(_E.start >= since)
        if until is not None:
            query = query.where(_E.start < until)
        if spec_version is not None:
            query = query.where(_E.spec_version == spec_version)
        if model is not None:
            query = query.where(_E.model == model)
        rows = conn.execute(query.order_by(_E.start, _E.replica, _E.variant, _E.model)).all()
        grouped: dict[tuple[float, str, int], list[VariantCounts]] = {}
        for row in rows:
            key = (float(row.start), row.replica, int(row.spec_version))
            grouped.setdefault(key, []).append(_counts_of(row))
        return [
            EvidenceWindow(start=start, spec_version=version, replica=replica, counts=tuple(counts))
            for (start, replica, version), counts in grouped.items()
        ]

    @reads
    def evidence_served(self, conn: Connection, model: str) -> list[tuple[str, str, float]]:
        rows = conn.execute(
            sa.select(_D.name, _E.variant, sa.func.min(_E.start))
            .join(t.deployments, _D.id == _E.deployment_id)
            .where(_E.model == model)
            .group_by(_D.name, _E.variant)
            .order_by(_D.name, _E.variant)
        ).all()
        return [(str(r[0]), str(r[1]), float(r[2])) for r in rows]
