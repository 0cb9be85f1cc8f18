"""The files ``mltrail runs reproduce`` writes: pinned requirements, nested config, run.sh, REPRODUCE.md."""

from __future__ import annotations

import datetime as dt
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.entities import Run, Value

__all__ = [
    "ReproduceResult",
    "as_dict",
    "path_inside",
    "readme",
    "requirements_lines",
    "run_script",
    "unflatten_params",
]


@dataclass(slots=True)
class ReproduceResult:
    """What ``reproduce`` restored into ``into`` and what it could not.

    ``git`` is ``cloned`` (checked out at ``commit`` from ``code_source``), ``init`` (the repository had no
    commits), ``none`` (no git information was recorded) or ``failed``. ``patch`` is ``applied``, ``none``
    (no uncommitted changes), ``not stored``, ``failed`` or ``skipped``. ``entry_script_action`` is
    ``matched`` (the checkout already had it), ``written`` (it was missing), ``replaced`` (the checkout's
    copy differed) or ``not recorded``.
    """

    run_id: str
    project: str
    name: str
    into: Path
    git: str
    code_source: str | None = None
    commit: str | None = None
    patch: str = "skipped"
    entry_script: str | None = None
    entry_script_action: str = "not recorded"
    files: list[str] = field(default_factory=list)
    packages: int = 0
    datasets: list[str] = field(default_factory=list)
    not_restored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def unflatten_params(params: Mapping[str, Value]) -> dict[str, Any]:
    """``{"model.depth": 6}`` → ``{"model": {"depth": 6}}``. A key that cannot nest because a shorter key
    already holds a value there stays dotted in the deepest dict that could take it."""
    root: dict[str, Any] = {}
    made: set[int] = {id(root)}
    for key in sorted(params):
        parts = key.split(".")
        node = root
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
                made.add(id(child))
            elif not (isinstance(child, dict) and id(child) in made):
                node[".".join(parts[i:])] = params[key]
                break
            node = child
        else:
            node[parts[-1]] = params[key]
    return root


def _is_own_package(name: str) -> bool:
    return name.lower().replace("_", "-") == "mltrail" or name.startswith("_")


def requirements_lines(packages: Mapping[str, Any]) -> list[str]:
    """``name==version`` for each recorded package, sorted, without mltrail itself or ``_private`` ones."""
    lines = []
    for name in sorted(packages, key=str.lower):
        if _is_own_package(name):
            continue
        version = packages[name]
        lines.append(f"{name}=={version}" if version else name)
    return lines


def path_inside(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` (both resolved) as POSIX, or ``None`` when it lies outside."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    try:
        rel = Path(real).relative_to(base)
    except ValueError:
        return None
    return rel.as_posix()


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def run_script(run: Run, git: dict[str, Any], result: ReproduceResult, names: dict[str, str]) -> str:
    command = as_dict(run.context.get("command"))
    argv = [str(a) for a in command.get("argv") or []]
    module, cwd, root = command.get("module"), command.get("cwd"), git.get("root")
    workdir = "."
    if cwd and root and result.git != "none":
        inside = path_inside(str(cwd), str(root))
        if inside is None:
            result.warnings.append(
                f"the run started outside its repository (in {cwd}); run.sh starts in {result.into}"
            )
        else:
            workdir = inside
    if argv and not module and result.entry_script:
        # The recorded script path may be absolute or relative to a folder that is elsewhere now.
        argv[0] = os.path.relpath(result.into / result.entry_script, result.into / workdir)
    started = dt.datetime.fromtimestamp(run.start_time, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    code = f"{result.commit or 'no commit'}" + (" + uncommitted changes" if result.patch == "applied" else "")
    lines = [
        "#!/usr/bin/env bash",
        f"# Reproduces mltrail run {run.id}",
        f"#   project: {run.project}",
        f"#   name:    {run.name}",
        f"#   commit:  {code}",
        f"#   started: {started}",
        f"# Install the recorded packages first: pip install -r {names['requirements.txt']}",
        "set -euo pipefail",
        'cd "$(dirname "${BASH_SOURCE[0]}")"',
    ]
    if workdir != ".":
        lines.append(f"cd {shlex.quote(workdir)}")
    if module:
        lines.append("exec python -m " + " ".join(shlex.quote(a) for a in [str(module), *argv[1:]]))
    elif argv and argv[0] not in ("", "-c"):
        lines.append("exec python " + " ".join(shlex.quote(a) for a in argv))
    else:
        result.not_restored.append("the command line: not captured, or the run was interactive")
        lines += ['echo "mltrail did not record a command line for this run" >&2', "exit 1"]
    return "\n".join(lines) + "\n"


def readme(run: Run, env: dict[str, Any], result: ReproduceResult, names: dict[str, str]) -> str:
    started = dt.datetime.fromtimestamp(run.start_time, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    code = {
        "cloned": f"cloned from `{result.code_source}` and checked out at commit `{result.commit}`",
        "init": "the repository had no commits; an empty repository was created",
        "none": "no git repository was recorded",
        "failed": "**not restored**: the repository could not be cloned",
    }[result.git]
    patch = {
        "applied": "applied (`code/diff.patch`)",
        "none": "none: the working tree was clean",
        "not stored": "**not restored**: not stored",
        "failed": "**not restored**: the stored diff did not apply",
        "skipped": "not applied",
    }[result.patch]
    python = as_dict(env.get("python")).get("version") or "not recorded"
    out = [
        f"# Reproduction of mltrail run `{run.id}`",
        "",
        f"- Project: {run.project}",
        f"- Name: {run.name}",
        f"- Status: {run.status.value}",
        f"- User: {run.user or '-'}",
        f"- Started: {started}",
        "",
        "## Restored",
        "",
        f"- Code: {code}",
        f"- Uncommitted changes: {patch}",
        f"- Entry script: `{result.entry_script or '-'}` ({result.entry_script_action})",
        f"- `{names['requirements.txt']}`: {result.packages} pinned packages (Python {python})",
        f"- `{names['config.json']}`: the params, nested; `{names['params.json']}`: the same, flat",
        f"- `{names['run.sh']}`: the original command, from the original working directory",
        "",
        "## Not restored",
        "",
        f"- The Python interpreter (the run used Python {python}) and packages not installed by pip",
        "- Environment variables, hardware (GPUs) and anything outside the repository",
        *[f"- {item}" for item in result.not_restored],
    ]
    if result.datasets:
        out += ["", "## Datasets", "", "Dataset files are not copied; these versions were used:", ""]
        out += [f"- {d}" for d in result.datasets]
    if result.warnings:
        out += ["", "## Warnings", "", *[f"- {w}" for w in result.warnings]]
    return "\n".join(out) + "\n"
