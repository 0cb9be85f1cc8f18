"""Rich media records of runs in SQL (the bytes live in the blob store)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import MediaFile, MediaName, RunMedia
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["MediaMixin"]

_m = t.run_media.c


def _media(row: Any) -> RunMedia:
    return RunMedia(
        run_id=row.run_id,
        name=row.name,
        step=int(row.step),
        kind=row.kind,
        files=[MediaFile(str(r), str(d), int(s), str(m)) for r, d, s, m in load_json(row.files)],
        meta=load_json(row.meta) or {},
        created_at=float(row.created_at),
    )


class MediaMixin(SqlBase):
    @writes
    def add_run_media(
        self,
        conn: Connection,
        run_id: str,
        name: str,
        step: int | None,
        *,
        kind: str,
        files: Sequence[MediaFile],
        meta: dict[str, Any],
    ) -> RunMedia:
        self._require_run(conn, run_id, lock=True)  # two writers of the same name take turns
        found = conn.execute(
            sa.select(sa.func.max(_m.step), sa.func.min(_m.kind)).where(_m.run_id == run_id, _m.name == name)
        ).one()
        last, known_kind = found
        if known_kind is not None and known_kind != kind:
            raise InvalidInputError(
                f"{name!r} holds {known_kind} media in this run; log the {kind} under another name",
                field="name",
            )
        if step is None:
            step = 0 if last is None else int(last) + 1
        values = {
            "kind": kind,
            "files": dump_json([[f.role, f.digest, f.size, f.mime] for f in files]),
            "meta": dump_json(meta),
            "created_at": time.time(),
        }
        stmt = self._insert(t.run_media).values(run_id=run_id, name=name, step=step, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["run_id", "name", "step"], set_=values))
        created = float(values["created_at"])  # type: ignore[arg-type]
        return RunMedia(run_id, name, step, kind, list(files), dict(meta), created)

    @reads
    def list_run_media(self, conn: Connection, run_id: str) -> list[MediaName]:
        self._require_run(conn, run_id)
        query = sa.select(_m.name, _m.kind, _m.step).where(_m.run_id == run_id).order_by(_m.name, _m.step)
        names: list[MediaName] = []
        for row in conn.execute(query):
            if not names or names[-1].name != row.name:
                names.append(MediaName(row.name, row.kind, []))
            names[-1].steps.append(int(row.step))
        return names

    @reads
    def get_run_media(self, conn: Connection, run_id: str, name: str, step: int | None = None) -> RunMedia:
        query = sa.select(t.run_media).where(_m.run_id == run_id, _m.name == name)
        query = query.order_by(_m.step.desc()).limit(1) if step is None else query.where(_m.step == step)
        row = conn.execute(query).one_or_none()
        if row is None:
            self._require_run(conn, run_id)
            at = "" if step is None else f" at step {step}"
            raise NotFoundError(f"run {run_id!r} has no media {name!r}{at}")
        return _media(row)

    @reads
    def page_run_media(
        self, conn: Connection, run_id: str, name: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[RunMedia], int]:
        self._require_run(conn, run_id)
        where = (_m.run_id == run_id, _m.name == name)
        total = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
        query = sa.select(t.run_media).where(*where).order_by(_m.step).offset(offset).limit(limit)
        return [_media(row) for row in conn.execute(query)], total
