"""What a deployment spec must satisfy beyond its shape: every model reference names a registered version
of the deployment's project, and the monitors it names exist there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mltrail.entities import DeploymentSpec, ModelVersion, Monitor
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.registry.checks import parse_model_ref, validate_model_name

__all__ = ["Resolved", "parse_spec", "resolve_refs", "validate_deployment_name"]

Resolved = dict[str, str]  # reference → "model:version" it named when the spec was written


def validate_deployment_name(name: str) -> str:
    try:
        return validate_model_name(name)
    except InvalidInputError:
        raise InvalidInputError(
            "a deployment name is 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit;"
            f" got {name!r}",
            field="name",
        ) from None


def parse_spec(spec: DeploymentSpec | Mapping[str, Any]) -> DeploymentSpec:
    """The spec, parsed from its JSON form when it is one (field errors prefixed with ``spec.``)."""
    if isinstance(spec, DeploymentSpec):
        return spec
    try:
        return DeploymentSpec.from_dict(spec)
    except InvalidInputError as exc:
        field = exc.field if exc.field is None or exc.field.startswith("spec") else f"spec.{exc.field}"
        raise InvalidInputError(exc.message, field=field) from None


def resolve_refs(
    spec: DeploymentSpec,
    resolve: Callable[[str], ModelVersion],
    project_of: Callable[[str], str],
    monitor: Callable[[str], Monitor],
    project: str | None = None,
) -> tuple[str, Resolved]:
    """The deployment's project (the primary model's, unless given) and what each reference names now.

    A reference that names nothing, a model of another project, or a monitor that does not exist or is in
    another project is an ``InvalidInputError`` naming the field (``spec.canary.ref``, ``spec.monitor``).
    """
    resolved: Resolved = {}
    for field, ref in spec.refs():
        where = f"spec.{field}"
        parsed = parse_model_ref(ref, field=where)
        try:
            version = resolve(ref)
            owner = project_of(parsed.model)
        except NotFoundError as exc:
            raise InvalidInputError(
                f"{where}: {ref!r} names no registered version ({exc.message})", field=where
            ) from None
        if project is None:
            project = owner
        elif owner != project:
            raise InvalidInputError(
                f"{where}: model {parsed.model!r} is in project {owner!r}, the deployment in {project!r}",
                field=where,
            )
        resolved[ref] = f"{version.model}:{version.version}"
    assert project is not None
    names = [("spec.monitor", spec.monitor)] + [
        (f"spec.shadow[{i}].monitor", s.monitor) for i, s in enumerate(spec.shadow)
    ]
    for where, name in names:
        if name is None:
            continue
        try:
            found = monitor(name)
        except NotFoundError:
            raise InvalidInputError(
                f"{where}: no monitor {name!r} (create it first: mltrail.monitor(REF, name={name!r}))",
                field=where,
            ) from None
        if found.project != project:
            raise InvalidInputError(
                f"{where}: monitor {name!r} is in project {found.project!r}, the deployment in {project!r}",
                field=where,
            )
    return project, resolved
