"""Registered models, their versions, stages and aliases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import (
    ApprovalPolicy,
    ModelFile,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    Stage,
)
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import reads, writes
from mltrail.store.sql.registry_events import RegistryEventsMixin

__all__ = ["RegistryModelsMixin", "with_changes"]

_M = t.registered_models.c
_V = t.model_versions.c
_A = t.model_aliases.c


def _merge_tags(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    merged = dict(old)
    for key, value in new.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class RegistryModelsMixin(RegistryEventsMixin):
    # -- reading ----------------------------------------------------------------------------------------
    @staticmethod
    def _model_row(conn: Connection, name: str, *, lock: bool = False) -> Any:
        query = (
            sa.select(t.registered_models, t.projects.c.name.label("project"))
            .select_from(t.registered_models.join(t.projects))
            .where(_M.name == name)
        )
        if lock:
            query = query.with_for_update(of=t.registered_models)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError(f"no registered model {name!r}")
        return row

    @staticmethod
    def _aliases(conn: Connection, model_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        found: dict[int, dict[str, int]] = {mid: {} for mid in model_ids}
        if model_ids:
            rows = conn.execute(
                sa.select(_A.model_id, _A.alias, _A.version).where(_A.model_id.in_(list(model_ids)))
            )
            for row in rows:
                found[row.model_id][row.alias] = int(row.version)
        return found

    @staticmethod
    def _to_model(row: Any, aliases: dict[str, int]) -> RegisteredModel:
        m = row._mapping
        return RegisteredModel(
            name=m["name"],
            project=m["project"],
            description=m["description"],
            owner=m["owner"],
            tags=load_json(m["tags"]) or {},
            policy=ApprovalPolicy.from_dict(load_json(m["policy"]) or {}),
            card=load_json(m["card"]) or {},
            created_at=float(m["created_at"]),
            updated_at=float(m["updated_at"]),
            latest_version=int(m["latest_version"]),
            aliases=dict(sorted(aliases.items())),
        )

    def _load_model(self, conn: Connection, name: str) -> RegisteredModel:
        row = self._model_row(conn, name)
        return self._to_model(row, self._aliases(conn, [row.id])[row.id])

    @staticmethod
    def _to_version(row: Any, model: str, aliases: Sequence[str]) -> ModelVersion:
        m = row._mapping
        return ModelVersion(
            model=model,
            version=int(m["version"]),
            run_id=m["run_id"],
            source=m["source"],
            digest=m["digest"],
            flavor=m["flavor"],
            format=m["format"],
            executes_code=bool(m["executes_code"]),
            signature=load_json(m["signature"]),
            files=tuple(ModelFile(path, digest, int(size)) for path, digest, size in load_json(m["files"])),
            stage=Stage(m["stage"]),
            description=m["description"],
            tags=load_json(m["tags"]) or {},
            created_by=m["created_by"],
            created_at=float(m["created_at"]),
            aliases=tuple(sorted(aliases)),
        )

    def _load_version(self, conn: Connection, model_id: int, model: str, version: int) -> ModelVersion:
        row = conn.execute(
            sa.select(t.model_versions).where(_V.model_id == model_id, _V.version == version)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"model {model!r} has no version {version}")
        aliases = conn.execute(
            sa.select(_A.alias).where(_A.model_id == model_id, _A.version == version)
        ).scalars()
        return self._to_version(row, model, list(aliases))

    @reads
    def get_registered_model(self, conn: Connection, name: str) -> RegisteredModel:
        return self._load_model(conn, name)

    @reads
    def list_registered_models(
        self, conn: Connection, *, projects: Sequence[str] | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[RegisteredModel], int]:
        if limit < 0 or offset < 0:
            raise InvalidInputError("limit and offset must be ≥ 0", field="limit" if limit < 0 else "offset")
        base = sa.select(t.registered_models, t.projects.c.name.label("project")).select_from(
            t.registered_models.join(t.projects)
        )
        if projects is not None:
            base = base.where(t.projects.c.name.in_(list(projects)))
        total = int(conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one())
        rows = conn.execute(base.order_by(_M.name).offset(offset).limit(limit)).all()
        aliases = self._aliases(conn, [row.id for row in rows])
        return [self._to_model(row, aliases[row.id]) for row in rows], total

    @reads
    def get_model_version(self, conn: Connection, model: str, version: int) -> ModelVersion:
        row = self._model_row(conn, model)
        return self._load_version(conn, row.id, model, version)

    @reads
    def get_version_by_alias(self, conn: Connection, model: str, alias: str) -> ModelVersion:
        row = self._model_row(conn, model)
        version = conn.execute(
            sa.select(_A.version).where(_A.model_id == row.id, _A.alias == alias)
        ).scalar_one_or_none()
        if version is None:
            raise NotFoundError(f"model {model!r} has no alias {alias!r}")
        return self._load_version(conn, row.id, model, int(version))

    @reads
    def list_model_versions(
        self, conn: Connection, model: str, *, stage: Stage | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        if limit < 0 or offset < 0:
            raise InvalidInputError("limit and offset must be ≥ 0", field="limit" if limit < 0 else "offset")
        row = self._model_row(conn, model)
        where = [_V.model_id == row.id] + ([_V.stage == stage.value] if stage is not None else [])
        total = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
        rows = conn.execute(
            sa.select(t.model_versions).where(*where).order_by(_V.version.desc()).offset(offset).limit(limit)
        ).all()
        by_version: dict[int, list[str]] = {}
        for alias, version in conn.execute(sa.select(_A.alias, _A.version).where(_A.model_id == row.id)):
            by_version.setdefault(int(version), []).append(alias)
        return [self._to_version(r, model, by_version.get(int(r.version), [])) for r in rows], total

    @reads
    def versions_of_run(self, conn: Connection, run_id: str) -> list[ModelVersion]:
        names = t.registered_models.c.name
        rows = conn.execute(
            sa.select(t.model_versions, names.label("model_name"))
            .select_from(t.model_versions.join(t.registered_models, t.registered_models.c.id == _V.model_id))
            .where(_V.run_id == run_id)
            .order_by(_V.created_at, _V.version)
        ).all()
        found: list[ModelVersion] = []
        for r in rows:
            aliases = conn.execute(
                sa.select(_A.alias).where(_A.model_id == r.model_id, _A.version == r.version)
            ).scalars()
            found.append(self._to_version(r, str(r.model_name), [str(a) for a in aliases]))
        return found

    # -- writing ----------------------------------------------------------------------------------------
    @writes
    def create_registered_model(
        self,
        conn: Connection,
        *,
        name: str,
        project: str,
        description: str,
        owner: str | None,
        tags: Mapping[str, str],
        policy: ApprovalPolicy,
        card: Mapping[str, Any],
        created_at: float,
        event: RegistryEvent,
    ) -> RegisteredModel:
        project_id = self._ensure_project(conn, project)
        exists = conn.execute(sa.select(_M.id).where(_M.name == name)).scalar_one_or_none()
        if exists is not None:
            raise ConflictError(f"a registered model named {name!r} exists already")
        stmt = (
            self._insert(t.registered_models)
            .values(
                name=name,
                project_id=project_id,
                description=description,
                owner=owner,
                tags=dump_json(dict(tags)),
                policy=dump_json(policy.to_dict()),
                card=dump_json(dict(card)),
                latest_version=0,
                created_at=created_at,
                updated_at=created_at,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_M.id)
        )
        if (
            conn.execute(stmt).first() is None
        ):  # a concurrent creation won the race (psycopg's rowcount is -1)
            raise ConflictError(f"a registered model named {name!r} exists already")
        self._append_events(conn, [event])
        return self._load_model(conn, name)

    @writes
    def update_registered_model(
        self,
        conn: Connection,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        policy: ApprovalPolicy | None = None,
        card: Mapping[str, Any] | None = None,
        updated_at: float,
        event: RegistryEvent,
    ) -> RegisteredModel:
        row = self._model_row(conn, name, lock=True)
        values: dict[str, Any] = {"updated_at": updated_at}
        if description is not None:
            values["description"] = description
        if owner is not None:
            values["owner"] = owner
        if tags is not None:
            values["tags"] = dump_json(_merge_tags(load_json(row.tags) or {}, tags))
        if policy is not None:
            values["policy"] = dump_json(policy.to_dict())
        if card is not None:
            merged = {**(load_json(row.card) or {}), **card}
            values["card"] = dump_json({k: v for k, v in merged.items() if v not in ("", None)})
        conn.execute(t.registered_models.update().where(_M.id == row.id).values(**values))
        self._append_events(conn, [event])
        return self._load_model(conn, name)

    @writes
    def create_model_version(
        self,
        conn: Connection,
        *,
        model: str,
        run_id: str | None,
        source: str,
        digest: str,
        flavor: str,
        format: str,
        executes_code: bool,
        signature: Mapping[str, Any] | None,
        files: Sequence[ModelFile],
        description: str,
        tags: Mapping[str, str],
        created_by: str | None,
        created_at: float,
        event: RegistryEvent,
    ) -> ModelVersion:
        # One UPDATE both locks the model row and takes the next number, so concurrent registrations
        # (two server replicas, say) get distinct versions on both databases.
        bumped = conn.execute(
            t.registered_models.update()
            .where(_M.name == model)
            .values(latest_version=_M.latest_version + 1, updated_at=created_at)
            .returning(_M.id, _M.latest_version)
        ).one_or_none()
        if bumped is None:
            raise NotFoundError(f"no registered model {model!r}")
        model_id, version = int(bumped[0]), int(bumped[1])
        conn.execute(
            t.model_versions.insert().values(
                model_id=model_id,
                version=version,
                run_id=run_id,
                source=source,
                digest=digest,
                flavor=flavor,
                format=format,
                executes_code=executes_code,
                signature=None if signature is None else dump_json(dict(signature)),
                files=dump_json([[f.path, f.digest, f.size] for f in files]),
                stage=Stage.NONE.value,
                description=description,
                tags=dump_json(dict(tags)),
                created_by=created_by,
                created_at=created_at,
            )
        )
        details = {**event.details, "digest": digest, "run_id": run_id}
        self._append_events(conn, [with_changes(event, version=version, details=details)])
        return self._load_version(conn, model_id, model, version)

    @writes
    def update_model_version(
        self,
        conn: Connection,
        model: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        event: RegistryEvent,
    ) -> ModelVersion:
        row = self._model_row(conn, model)
        current = self._load_version(conn, row.id, model, version)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = description
        if tags is not None:
            values["tags"] = dump_json(_merge_tags(current.tags, tags))
        if values:
            conn.execute(
                t.model_versions.update().where(_V.model_id == row.id, _V.version == version).values(**values)
            )
        self._append_events(conn, [event])
        return self._load_version(conn, row.id, model, version)

    def _apply_stage(
        self,
        conn: Connection,
        model_id: int,
        model: str,
        version: int,
        stage: Stage,
        *,
        archive_previous: bool,
        event: RegistryEvent,
    ) -> list[RegistryEvent]:
        """Set the stage; the events it causes (the given one, plus one per archived version)."""
        current = self._load_version(conn, model_id, model, version)
        events = [
            with_changes(event, version=version, details={**event.details, "from": current.stage.value})
        ]
        if stage is Stage.PRODUCTION and archive_previous:
            others = conn.execute(
                sa.select(_V.version).where(
                    _V.model_id == model_id, _V.stage == Stage.PRODUCTION.value, _V.version != version
                )
            ).scalars()
            for other in sorted(int(v) for v in others):
                conn.execute(
                    t.model_versions.update()
                    .where(_V.model_id == model_id, _V.version == other)
                    .values(stage=Stage.ARCHIVED.value)
                )
                details = {"from": "production", "to": "archived", "replaced_by": version}
                events.append(with_changes(event, version=other, details=details))
        conn.execute(
            t.model_versions.update()
            .where(_V.model_id == model_id, _V.version == version)
            .values(stage=stage.value)
        )
        return events

    def _apply_alias(
        self, conn: Connection, model_id: int, model: str, alias: str, version: int, event: RegistryEvent
    ) -> RegistryEvent:
        self._load_version(conn, model_id, model, version)  # NotFoundError for a missing version
        previous = conn.execute(
            sa.select(_A.version).where(_A.model_id == model_id, _A.alias == alias)
        ).scalar_one_or_none()
        if previous is None:
            conn.execute(t.model_aliases.insert().values(model_id=model_id, alias=alias, version=version))
        else:
            conn.execute(
                t.model_aliases.update()
                .where(_A.model_id == model_id, _A.alias == alias)
                .values(version=version)
            )
        details = {**event.details, "alias": alias, "from": previous}
        return with_changes(event, version=version, details=details)

    @writes
    def set_version_stage(
        self,
        conn: Connection,
        model: str,
        version: int,
        stage: Stage,
        *,
        archive_previous: bool,
        events: Sequence[RegistryEvent],
    ) -> ModelVersion:
        row = self._model_row(conn, model, lock=True)
        head, *rest = events
        caused = self._apply_stage(
            conn, row.id, model, version, stage, archive_previous=archive_previous, event=head
        )
        self._append_events(conn, [*rest, *caused])
        return self._load_version(conn, row.id, model, version)

    @writes
    def set_alias(
        self, conn: Connection, model: str, alias: str, version: int, *, event: RegistryEvent
    ) -> ModelVersion:
        row = self._model_row(conn, model, lock=True)
        self._append_events(conn, [self._apply_alias(conn, row.id, model, alias, version, event)])
        return self._load_version(conn, row.id, model, version)

    @writes
    def delete_alias(self, conn: Connection, model: str, alias: str, *, event: RegistryEvent) -> None:
        row = self._model_row(conn, model, lock=True)
        previous = conn.execute(
            sa.select(_A.version).where(_A.model_id == row.id, _A.alias == alias)
        ).scalar_one_or_none()
        if previous is None:
            raise NotFoundError(f"model {model!r} has no alias {alias!r}")
        conn.execute(t.model_aliases.delete().where(_A.model_id == row.id, _A.alias == alias))
        self._append_events(conn, [with_changes(event, version=int(previous), details={"alias": alias})])


def with_changes(event: RegistryEvent, **changes: Any) -> RegistryEvent:
    return replace(event, **changes)
