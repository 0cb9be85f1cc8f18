"""What the registry checks: names and references, a model folder's metadata, and approval gates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.entities import ApprovalPolicy, Artifact, GateResult, ModelFile, Role, Run, Stage
from mltrail.errors import InvalidFilterError, InvalidInputError
from mltrail.model_meta import META_FILE, parse_meta
from mltrail.query import parse_filter
from mltrail.query_ast import And, Comparison, FieldRef
from mltrail.services.registry.evidence_gates import is_evidence_gate, parse_evidence_gate
from mltrail.store.tracking import TrackingStore

__all__ = [
    "MAX_VERSION",
    "META_FILE",
    "FolderMeta",
    "ModelRef",
    "evaluate_gates",
    "is_version_number",
    "parse_model_ref",
    "read_folder_meta",
    "validate_alias",
    "validate_model_name",
    "validate_policy",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
STAGES = tuple(s.value for s in Stage)
MAX_VERSION = 2**63 - 1  # the largest number the database holds


def is_version_number(text: str) -> bool:
    """ASCII digits (``str.isdigit`` also takes ``²``, which ``int`` refuses) naming 1 … MAX_VERSION."""
    return text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_VERSION


def validate_model_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            "a model name is 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit;"
            f" got {name!r}",
            field="name",
        )
    return name


def validate_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInputError(
            f"an alias is a letter then up to 63 letters, digits, '_' or '-'; got {alias!r}", field="alias"
        )
    if alias in STAGES:
        raise InvalidInputError(f"{alias!r} is a stage name and cannot be an alias", field="alias")
    return alias


@dataclass(frozen=True, slots=True)
class ModelRef:
    """``churn:3`` (a version), ``churn@champion`` (an alias) or ``churn@production`` (the newest version
    in a stage; an alias cannot be named like a stage), or ``churn`` alone (the newest version)."""

    model: str
    version: int | None = None
    alias: str | None = None
    stage: Stage | None = None


def parse_model_ref(ref: str, field: str = "model") -> ModelRef:
    text = ref.strip() if isinstance(ref, str) else ""
    problem = InvalidInputError(
        f"a model reference is NAME, NAME:VERSION, NAME@ALIAS or NAME@STAGE; got {ref!r}", field=field
    )
    if "@" in text:
        name, _, target = text.partition("@")
        validate_model_name(name)
        if target in STAGES:
            return ModelRef(name, stage=Stage(target))
        try:
            return ModelRef(name, alias=validate_alias(target))
        except InvalidInputError:
            raise problem from None
    if ":" in text:
        name, _, number = text.rpartition(":")
        if not is_version_number(number):
            raise problem
        return ModelRef(validate_model_name(name), version=int(number))
    if not text:
        raise problem
    return ModelRef(validate_model_name(text))


def validate_policy(policy: ApprovalPolicy) -> ApprovalPolicy:
    if not 1 <= policy.required_approvals <= 10:
        raise InvalidInputError("required_approvals must be between 1 and 10", field="required_approvals")
    for stage in policy.protected_stages:
        if stage not in STAGES or stage == Stage.NONE.value:
            raise InvalidInputError(
                f"{stage!r} is not a stage that can be protected", field="protected_stages"
            )
    for alias in policy.protected_aliases:
        validate_alias(alias)
    if not policy.approver_roles:
        raise InvalidInputError("approver_roles must name at least one role", field="approver_roles")
    if any(not role.at_least(Role.MEMBER) for role in policy.approver_roles):
        # a viewer (or no one) approving would let read-only users open the way to production
        raise InvalidInputError("approver roles are member, maintainer or admin", field="approver_roles")
    for gate in policy.gates:
        if is_evidence_gate(gate):
            parse_evidence_gate(gate)  # a mistake is a 400 naming gates
            continue
        try:
            parse_filter(gate)
        except InvalidFilterError as exc:
            raise InvalidInputError(f"gate {gate!r} does not parse: {exc.message}", field="gates") from exc
    return policy


@dataclass(frozen=True, slots=True)
class FolderMeta:
    """What the registry keeps of a model folder's ``mltrail-model.json``."""

    digest: str
    flavor: str
    format: str
    executes_code: bool
    signature: dict[str, Any] | None
    files: tuple[ModelFile, ...]  # every file of the folder, the metadata file last


def read_folder_meta(raw: bytes, source: str, artifacts: Sequence[Artifact]) -> FolderMeta:
    """Parse the metadata file and check that every file it lists is among the run's artifacts under
    ``source`` with the same sha256 and size, so a registered version is complete and pinned."""
    try:
        doc = parse_meta(raw)  # the one reader of the format, shared with the SDK's flavors
    except InvalidInputError as exc:
        raise InvalidInputError(f"{source}/{exc.message}", field="path") from exc
    flavor, fmt, executes, signature = doc.flavor, doc.format, doc.executes_code, doc.signature
    files = [(f.path, f.sha256, f.size) for f in doc.files]
    present = {a.path: a for a in artifacts}
    pinned: list[ModelFile] = []
    for path, sha, size in files:
        artifact = present.get(f"{source}/{path}")
        if artifact is None:
            raise InvalidInputError(f"{source}/{path}, listed in {META_FILE}, was not logged", field="path")
        if artifact.digest != sha or artifact.size != size:
            raise InvalidInputError(
                f"{source}/{path} does not match {META_FILE} (sha256 {artifact.digest[:12]}…,"
                f" listed {sha[:12]}…): the folder changed after it was saved",
                field="path",
            )
        pinned.append(ModelFile(path, sha, size))
    pinned.append(ModelFile(META_FILE, doc.digest, len(raw)))
    return FolderMeta(doc.digest, flavor, fmt, executes, signature, tuple(pinned))


def evaluate_gates(
    store: TrackingStore, policy: ApprovalPolicy, run: Run | None, signature: dict[str, Any] | None
) -> list[GateResult]:
    """Each gate of the policy on the version's source run: a filter expression must match the run (checked
    by the store's own filter, so a gate means exactly what it means in ``runs list --filter``). Gates on
    serving evidence (``evidence.…``) are ``evidence_gates.py``'s."""
    results: list[GateResult] = []
    for gate in policy.gates:
        if is_evidence_gate(gate):  # serving evidence: ``evidence_gates.py``
            continue
        if run is None:
            results.append(GateResult(gate, False, "the version has no source run"))
            continue
        expr = parse_filter(gate)
        if expr is None:  # an empty gate asks nothing
            continue
        only_this = Comparison(FieldRef("attr", "id"), "=", run.id)
        page = store.search_runs(run.project, filter=And((only_this, expr)), limit=1)
        passed = page.total > 0
        results.append(GateResult(gate, passed, _gate_detail(gate, run, passed)))
    if policy.require_datasets:
        datasets = [] if run is None else store.list_run_datasets(run.id)
        names = ", ".join(f"{d.role}: {d.dataset.name} v{d.dataset.version}" for d in datasets)
        results.append(
            GateResult("datasets recorded", bool(datasets), names or "the run recorded no dataset")
        )
    if policy.require_signature:
        results.append(
            GateResult(
                "signature present",
                signature is not None,
                "inputs and outputs declared" if signature else "the model was saved without a signature",
            )
        )
    return results


def _gate_detail(gate: str, run: Run, passed: bool) -> str:
    """The values the gate looked at, so a reviewer sees why it passed or failed."""
    seen: list[str] = []
    for key, summary in run.metrics.items():
        if f"metrics.{key}" in gate:
            seen.append(f"metrics.{key} = {summary.last:g}")
    for key, value in run.params.items():
        if f"params.{key}" in gate:
            seen.append(f"params.{key} = {value!r}")
    for key, value in run.summary.items():
        if f"summary.{key}" in gate:
            seen.append(f"summary.{key} = {value!r}")
    verdict = "passed" if passed else "failed"
    return f"{verdict}: {'; '.join(seen)}" if seen else verdict
