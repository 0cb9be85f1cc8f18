"""The compute price table and project budgets (migration 0019; their channels, 0021)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Budget, Price
from mltrail.errors import NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["InsightSettingsMixin"]


def _price(row: Any) -> Price:
    return Price(
        kind=row.kind,
        per_hour=float(row.per_hour),
        currency=row.currency,
        updated_at=float(row.updated_at),
        updated_by=row.updated_by,
    )


class InsightSettingsMixin(SqlBase):
    @writes
    def set_price(
        self, conn: Connection, kind: str, per_hour: float, currency: str, *, now: float, user: str | None
    ) -> Price:
        p = t.compute_prices
        values = {"per_hour": per_hour, "currency": currency, "updated_at": now, "updated_by": user}
        stmt = self._insert(p).values(kind=kind, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["kind"], set_=values))
        return Price(kind=kind, per_hour=per_hour, currency=currency, updated_at=now, updated_by=user)

    @writes
    def delete_price(self, conn: Connection, kind: str) -> None:
        if not conn.execute(t.compute_prices.delete().where(t.compute_prices.c.kind == kind)).rowcount:
            raise NotFoundError(f"no price for {kind!r}")

    @reads
    def list_prices(self, conn: Connection) -> list[Price]:
        return [
            _price(r) for r in conn.execute(sa.select(t.compute_prices).order_by(t.compute_prices.c.kind))
        ]

    @writes
    def set_budget(
        self,
        conn: Connection,
        project: str,
        amount: float,
        currency: str,
        alert_share: float,
        *,
        now: float,
        user: str | None,
        channels: Sequence[str] = (),
    ) -> Budget:
        project_id = self._project_id(conn, project)
        values: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "alert_share": alert_share,
            "alerted_period": None,
            "updated_at": now,
            "updated_by": user,
        }
        stored = {**values, "channels": dump_json(list(channels))}
        stmt = self._insert(t.project_budgets).values(project_id=project_id, **stored)
        conn.execute(stmt.on_conflict_do_update(index_elements=["project_id"], set_=stored))
        return Budget(project=project, **values, channels=tuple(channels))

    @writes
    def delete_budget(self, conn: Connection, project: str) -> None:
        project_id = self._project_id(conn, project)
        b = t.project_budgets
        if not conn.execute(b.delete().where(b.c.project_id == project_id)).rowcount:
            raise NotFoundError(f"project {project!r} has no budget")

    @reads
    def list_budgets(self, conn: Connection, projects: Sequence[str] | None = None) -> list[Budget]:
        b, p = t.project_budgets.c, t.projects.c
        query = sa.select(
            p.name,
            b.amount,
            b.currency,
            b.alert_share,
            b.alerted_period,
            b.updated_at,
            b.updated_by,
            b.channels,
        ).join_from(t.project_budgets, t.projects, b.project_id == p.id)
        if projects is not None:
            query = query.where(p.name.in_(list(projects)))
        return [
            Budget(
                project=r.name,
                amount=float(r.amount),
                currency=r.currency,
                alert_share=float(r.alert_share),
                alerted_period=r.alerted_period,
                updated_at=float(r.updated_at),
                updated_by=r.updated_by,
                channels=tuple(load_json(r.channels) or ()),
            )
            for r in conn.execute(query.order_by(p.name))
        ]

    @writes
    def mark_budget_alerted(self, conn: Connection, project: str, period: str) -> bool:
        project_id = self._project_id(conn, project)
        b = t.project_budgets.c
        stmt = (
            t.project_budgets.update()
            .where(
                b.project_id == project_id,
                sa.or_(b.alerted_period.is_(None), b.alerted_period != period),
            )
            .values(alerted_period=period)
        )
        return bool(conn.execute(stmt).rowcount)
