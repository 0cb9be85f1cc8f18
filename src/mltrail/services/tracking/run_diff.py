"""What differs between two runs: params, metrics, code, packages, datasets and environment."""

from __future__ import annotations

import dataclasses
import difflib
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail.entities import DatasetLink, MetricSummary, Run, Value
from mltrail.errors import IntegrityError, NotFoundError

if TYPE_CHECKING:  # types only: the runs CLI imports this module without the blob store (fsspec)
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.service import TrackingService

__all__ = [
    "MAX_PATCH_DIFF_BYTES",
    "CodeDiff",
    "DatasetChange",
    "EnvironmentField",
    "MetricDiff",
    "PackagesDiff",
    "ParamsDiff",
    "RunDiff",
    "compare_runs",
    "diff_runs",
    "load_patch",
]

# difflib is quadratic in the worst case; beyond this the patches are compared by equality only.
MAX_PATCH_DIFF_BYTES = 2_000_000


@dataclass(frozen=True, slots=True)
class ParamsDiff:
    added: dict[str, Value]  # only in run B
    removed: dict[str, Value]  # only in run A
    changed: dict[str, tuple[Value, Value]]  # key → (A, B)
    same: int


@dataclass(frozen=True, slots=True)
class MetricDiff:
    """One metric in both runs; ``None`` where a run lacks it. ``delta`` is B's last minus A's last."""

    key: str
    a: MetricSummary | None
    b: MetricSummary | None
    delta: float | None


@dataclass(frozen=True, slots=True)
class CodeDiff:
    commit_a: str | None
    commit_b: str | None
    branch_a: str | None
    branch_b: str | None
    dirty_a: bool | None
    dirty_b: bool | None
    same_commit: bool
    same_patch: bool
    # Unified diff between the two stored uncommitted-change patches, when both exist and differ.
    patch_diff: str | None
    notes: list[str]


@dataclass(frozen=True, slots=True)
class PackagesDiff:
    added: dict[str, str]  # only in run B
    removed: dict[str, str]  # only in run A
    changed: dict[str, tuple[str, str]]
    same: int


@dataclass(frozen=True, slots=True)
class DatasetChange:
    """A dataset by role and name: ``status`` is ``same``, ``changed``, ``added`` (only B) or ``removed``."""

    role: str
    name: str
    status: str
    versions_a: list[dict[str, Any]]  # {"version": 3, "digest": "…"}
    versions_b: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class EnvironmentField:
    name: str
    a: Any
    b: Any
    differs: bool


@dataclass(frozen=True, slots=True)
class RunDiff:
    run_a: dict[str, str]  # id, name, project
    run_b: dict[str, str]
    params: ParamsDiff
    metrics: list[MetricDiff]
    code: CodeDiff
    packages: PackagesDiff
    datasets: list[DatasetChange]
    environment: list[EnvironmentField]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` (floats may be NaN or ±inf; the CLI encodes those)."""
        out = dataclasses.asdict(self)
        out["params"]["changed"] = {k: {"a": a, "b": b} for k, (a, b) in self.params.changed.items()}
        out["packages"]["changed"] = {k: {"a": a, "b": b} for k, (a, b) in self.packages.changed.items()}
        return out


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _diff_params(a: Mapping[str, Value], b: Mapping[str, Value]) -> ParamsDiff:
    changed = {k: (a[k], b[k]) for k in sorted(a.keys() & b.keys()) if not _same_value(a[k], b[k])}
    return ParamsDiff(
        added={k: b[k] for k in sorted(b.keys() - a.keys())},
        removed={k: a[k] for k in sorted(a.keys() - b.keys())},
        changed=changed,
        same=len(a.keys() & b.keys()) - len(changed),
    )


def _diff_metrics(a: Mapping[str, MetricSummary], b: Mapping[str, MetricSummary]) -> list[MetricDiff]:
    # System metrics (sys/…) come after the model's own.
    keys = sorted(a.keys() | b.keys(), key=lambda k: (k.startswith("sys/"), k))
    out = []
    for key in keys:
        ma, mb = a.get(key), b.get(key)
        delta = mb.last - ma.last if ma is not None and mb is not None else None
        out.append(MetricDiff(key=key, a=ma, b=mb, delta=delta))
    return out


def _git(run: Run) -> dict[str, Any]:
    git = run.context.get("git")
    return git if isinstance(git, dict) and "skipped" not in git else {}


def _diff_code(run_a: Run, run_b: Run, patch_a: bytes | None, patch_b: bytes | None) -> CodeDiff:
    ga, gb = _git(run_a), _git(run_b)
    commit_a, commit_b = ga.get("commit"), gb.get("commit")
    notes: list[str] = []
    if not ga or not gb:
        missing = [label for label, g in (("A", ga), ("B", gb)) if not g]
        notes.append(f"no git information for run {' and '.join(missing)}")
    same_commit = commit_a == commit_b
    if ga and gb and not same_commit:
        notes.append(f"different commits: {str(commit_a)[:12]} vs {str(commit_b)[:12]}")
    if ga.get("remote") != gb.get("remote") and ga and gb:
        notes.append(f"different remotes: {ga.get('remote')} vs {gb.get('remote')}")
    same_patch = (patch_a or b"") == (patch_b or b"")
    patch_diff: str | None = None
    if patch_a and not patch_b:
        notes.append("only run A has uncommitted changes")
    elif patch_b and not patch_a:
        notes.append("only run B has uncommitted changes")
    elif patch_a and patch_b and not same_patch:
        if max(len(patch_a), len(patch_b)) > MAX_PATCH_DIFF_BYTES:
            notes.append("the uncommitted changes differ (too large to show a diff)")
        else:
            notes.append("the uncommitted changes differ")
            lines = difflib.unified_diff(
                patch_a.decode("utf-8", errors="replace").splitlines(keepends=True),
                patch_b.decode("utf-8", errors="replace").splitlines(keepends=True),
                fromfile=f"{run_a.id[:8]}/code/diff.patch",
                tofile=f"{run_b.id[:8]}/code/diff.patch",
            )
            patch_diff = "".join(lines)
    return CodeDiff(
        commit_a=commit_a,
        commit_b=commit_b,
        branch_a=ga.get("branch"),
        branch_b=gb.get("branch"),
        dirty_a=ga.get("dirty"),
        dirty_b=gb.get("dirty"),
        same_commit=same_commit,
        same_patch=same_patch,
        patch_diff=patch_diff,
        notes=notes,
    )


def _packages(run: Run) -> dict[str, str]:
    env = run.context.get("environment")
    packages = env.get("packages") if isinstance(env, dict) else None
    return {str(k): str(v) for k, v in packages.items()} if isinstance(packages, dict) else {}


def _diff_packages(a: Mapping[str, str], b: Mapping[str, str]) -> PackagesDiff:
    changed = {k: (a[k], b[k]) for k in sorted(a.keys() & b.keys()) if a[k] != b[k]}
    return PackagesDiff(
        added={k: b[k] for k in sorted(b.keys() - a.keys())},
        removed={k: a[k] for k in sorted(a.keys() - b.keys())},
        changed=changed,
        same=len(a.keys() & b.keys()) - len(changed),
    )


def _dataset_versions(links: Sequence[DatasetLink]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for link in links:
        entry = {"version": link.dataset.version, "digest": link.dataset.digest}
        items = grouped.setdefault((link.role, link.dataset.name), [])
        if entry not in items:
            items.append(entry)
    for items in grouped.values():
        items.sort(key=lambda e: (e["version"], e["digest"]))
    return grouped


def _diff_datasets(a: Sequence[DatasetLink], b: Sequence[DatasetLink]) -> list[DatasetChange]:
    va, vb = _dataset_versions(a), _dataset_versions(b)
    out = []
    for role, name in sorted(va.keys() | vb.keys()):
        xa, xb = va.get((role, name), []), vb.get((role, name), [])
        if not xa:
            status = "added"
        elif not xb:
            status = "removed"
        else:
            same = {e["digest"] for e in xa} == {e["digest"] for e in xb}
            status = "same" if same else "changed"
        out.append(DatasetChange(role=role, name=name, status=status, versions_a=xa, versions_b=xb))
    return out


def environment_facts(run: Run) -> dict[str, Any]:
    """Python version, OS, host and GPU count as recorded, ``None`` where not captured."""
    env = run.context.get("environment")
    env = env if isinstance(env, dict) else {}
    python = env.get("python")
    version = python.get("version") if isinstance(python, dict) else python
    os_info = env.get("os")
    if isinstance(os_info, dict):
        os_text = " ".join(str(os_info[k]) for k in ("system", "release", "machine") if os_info.get(k))
        os_info = os_text or os_info.get("platform")
    gpus = env.get("gpus")
    cpu = env.get("cpu")
    cpu_count = cpu.get("count") if isinstance(cpu, dict) else None
    return {
        "python": version,
        "os": os_info,
        "hostname": env.get("hostname"),
        "cpu_count": cpu_count,
        "gpu_count": len(gpus) if isinstance(gpus, list) else None,
    }


def _diff_environment(run_a: Run, run_b: Run) -> list[EnvironmentField]:
    fa, fb = environment_facts(run_a), environment_facts(run_b)
    return [EnvironmentField(name=k, a=fa[k], b=fb[k], differs=fa[k] != fb[k]) for k in fa]


def diff_runs(
    run_a: Run,
    run_b: Run,
    datasets_a: Sequence[DatasetLink],
    datasets_b: Sequence[DatasetLink],
    patch_a: bytes | None,
    patch_b: bytes | None,
) -> RunDiff:
    """Compare two loaded runs; no store access, so it can be tested with plain entities."""
    notes = []
    if run_a.project != run_b.project:
        notes.append(f"the runs are in different projects: {run_a.project} and {run_b.project}")
    return RunDiff(
        run_a={"id": run_a.id, "name": run_a.name, "project": run_a.project},
        run_b={"id": run_b.id, "name": run_b.name, "project": run_b.project},
        params=_diff_params(run_a.params, run_b.params),
        metrics=_diff_metrics(run_a.metrics, run_b.metrics),
        code=_diff_code(run_a, run_b, patch_a, patch_b),
        packages=_diff_packages(_packages(run_a), _packages(run_b)),
        datasets=_diff_datasets(datasets_a, datasets_b),
        environment=_diff_environment(run_a, run_b),
        notes=notes,
    )


def load_patch(artifacts: ArtifactService, run: Run) -> bytes | None:
    """The run's stored uncommitted-change patch, downloaded (so its sha256 is verified), or ``None``."""
    git = _git(run)
    path = git.get("patch_artifact")
    if not isinstance(path, str):
        return None
    with tempfile.TemporaryDirectory(prefix="mltrail-patch-") as tmp:
        target = Path(tmp) / "diff.patch"
        try:
            artifacts.download(run.id, path, target)
        except NotFoundError:
            return None
        except IntegrityError as exc:
            raise IntegrityError(f"the stored {path} of run {run.id} is corrupt: {exc}") from exc
        return target.read_bytes()


def compare_runs(
    tracking: TrackingService,
    datasets: DatasetService,
    artifacts: ArtifactService,
    ref_a: str,
    ref_b: str,
    project: str | None = None,
) -> RunDiff:
    """Resolve two run references (id, id prefix or name), load what they recorded and diff them."""
    run_a = tracking.get_run(ref_a, project)
    run_b = tracking.get_run(ref_b, project)
    return diff_runs(
        run_a,
        run_b,
        datasets.for_run(run_a.id),
        datasets.for_run(run_b.id),
        load_patch(artifacts, run_a),
        load_patch(artifacts, run_b),
    )
