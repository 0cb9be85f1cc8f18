"""Rebuild a run's code, command, config and package pins in a folder (``mltrail runs reproduce``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail.entities import DatasetLink, Run
from mltrail.errors import IntegrityError, InvalidInputError, MltrailError, NotFoundError
from mltrail.services.tracking.reproduce_files import (
    ReproduceResult,
    as_dict,
    path_inside,
    readme,
    requirements_lines,
    run_script,
    unflatten_params,
)
from mltrail.services.tracking.run_source import RunSource, ServiceRunSource

if TYPE_CHECKING:  # only for annotations: a reproduction over a team server loads no store
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.service import TrackingService

__all__ = ["PatchApplier", "ReproduceService", "Reproducer"]

# Applies a stored ``git diff`` to a checkout (``mltrail.sdk.capture.git.apply_patch``), injected so that
# this layer does not import the SDK.
PatchApplier = Callable[[Path, bytes], None]

GIT_TIMEOUT = 600.0
REMOTE_PROBE_TIMEOUT = 20.0
_COMMIT = re.compile(r"[0-9a-f]{7,64}")


class _GitError(Exception):
    """A git command failed, timed out or git is not installed; the message is git's last line."""


def _git(args: list[str], cwd: Path | None = None, timeout: float = GIT_TIMEOUT) -> str:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=10")
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=True
        )
    except FileNotFoundError as exc:
        raise _GitError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise _GitError(f"git {args[0]} timed out after {timeout:.0f}s") from exc
    except subprocess.CalledProcessError as exc:
        lines = [ln for ln in (exc.stderr or "").strip().splitlines() if ln.strip()]
        raise _GitError(lines[-1] if lines else f"git {args[0]} exited with {exc.returncode}") from exc
    return done.stdout


def _empty_folder(folder: Path) -> None:
    """Remove what a failed clone left; the folder was checked to be empty before we started."""
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


class Reproducer:
    """Clones the run's commit, applies its uncommitted diff and restores its entry script, then writes
    ``requirements.txt``, ``config.json``, ``params.json``, ``run.sh`` and ``REPRODUCE.md``; reads the run
    and its files from any ``RunSource`` (the embedded services, or a team server through the SDK)."""

    def __init__(self, source: RunSource, apply_patch: PatchApplier) -> None:
        self.source = source
        self.apply_patch = apply_patch

    def reproduce(
        self, run_ref: str, into: str | os.PathLike[str], project: str | None = None
    ) -> ReproduceResult:
        """Rebuild run ``run_ref`` (id, id prefix or name) in ``into``, which must not exist or be empty.

        On an error (e.g. ``IntegrityError`` for a stored file whose sha256 does not match) everything written
        into ``into`` is removed again.
        """
        target = Path(into)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise InvalidInputError(f"{target} must not exist or must be an empty folder", field="into")
        run = self.source.get(run_ref, project)
        created = not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        try:
            return self._reproduce(run, target.resolve())
        except BaseException:
            _empty_folder(target)
            if created:
                target.rmdir()
            raise

    def _reproduce(self, run: Run, target: Path) -> ReproduceResult:
        git = as_dict(run.context.get("git"))
        result = ReproduceResult(run_id=run.id, project=run.project, name=run.name, into=target, git="none")
        root = git.get("root") if "skipped" not in git else None
        if root or git.get("commit"):
            self._restore_repository(run, git, result)
        else:
            result.not_restored.append(f"git: {git.get('skipped') or 'not captured'}; only the entry script")
        self._restore_entry_script(run, git, result)
        self._write_files(run, git, result, self.source.datasets(run.id))
        return result

    # -- code -------------------------------------------------------------------------------------------
    def _restore_repository(self, run: Run, git: dict[str, Any], result: ReproduceResult) -> None:
        into = result.into
        commit, root, remote = git.get("commit"), git.get("root"), git.get("remote")
        if not commit:
            try:
                _git(["init", "--quiet", str(into)])
                result.git = "init"
            except _GitError as exc:
                result.git = "failed"
                result.warnings.append(f"could not create an empty repository: {exc}")
        elif not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
            raise InvalidInputError(
                f"run {run.id} records an invalid git commit: {commit!r:.80}", field="commit"
            )
        else:
            result.commit = commit
            # The local repository first: it needs no network and has commits never pushed.
            sources = [s for s in (root if root and Path(root).is_dir() else None, remote) if s]
            if not sources:
                result.git = "failed"
                result.warnings.append(
                    f"the repository is not available: {root} does not exist here and no remote was recorded"
                )
            for source in sources:
                try:
                    # `--` keeps a recorded "remote" such as `--upload-pack=…` from being read as an option.
                    _git(["clone", "--quiet", "--no-checkout", "--", str(source), str(into)])
                    _git(
                        ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit],
                        cwd=into,
                    )
                except _GitError as exc:
                    result.warnings.append(f"could not check out {commit[:12]} from {source}: {exc}")
                    _empty_folder(into)
                    continue
                result.git, result.code_source = "cloned", str(source)
                break
            else:
                result.git = "failed"
            if result.git == "cloned" and result.code_source != remote and remote:
                self._point_origin_at_remote(into, str(remote), result)
        skipped = [s for s in git.get("untracked_skipped") or [] if isinstance(s, dict)]
        if skipped:
            listed = ", ".join(f"{s.get('path')} ({s.get('reason')})" for s in skipped[:10])
            more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
            result.not_restored.append(f"untracked files that were not stored with the run: {listed}{more}")
        if result.git in ("cloned", "init"):
            self._apply_diff(run, git, result)
        else:
            result.patch = "skipped"
            result.not_restored.append(
                "the repository at the recorded commit, and so its uncommitted changes"
            )

    def _point_origin_at_remote(self, into: Path, remote: str, result: ReproduceResult) -> None:
        """After cloning from the local repository, make ``origin`` the recorded remote and say whether it
        can be reached from here."""
        try:
            _git(["remote", "set-url", "origin", remote], cwd=into)
            _git(["ls-remote", "--exit-code", "--", remote, "HEAD"], cwd=into, timeout=REMOTE_PROBE_TIMEOUT)
        except _GitError as exc:
            result.warnings.append(
                f"the recorded remote {remote} could not be reached ({exc}); the code was cloned from the "
                f"local repository {result.code_source} instead"
            )

    def _apply_diff(self, run: Run, git: dict[str, Any], result: ReproduceResult) -> None:
        path = git.get("patch_artifact")
        if not isinstance(path, str):
            result.patch = "none"
            if git.get("dirty"):
                result.patch = "not stored"
                result.warnings.append("the working tree had uncommitted changes, but no diff was stored")
            return
        data = self._artifact_bytes(run.id, path)
        if data is None:
            result.patch = "not stored"
            result.warnings.append(f"the uncommitted changes ({path}) are not in the store")
            return
        try:
            self.apply_patch(result.into, data)
        except (MltrailError, OSError, subprocess.SubprocessError) as exc:
            result.patch = "failed"
            result.warnings.append(f"the uncommitted changes ({path}) did not apply: {exc}")
            return
        result.patch = "applied"

    def _artifact_bytes(self, run_id: str, path: str) -> bytes | None:
        """An artifact's content, its sha256 verified by the source; ``None`` when it was not stored."""
        try:
            return self.source.read_artifact(run_id, path)
        except NotFoundError:
            return None
        except IntegrityError as exc:
            raise IntegrityError(f"the stored {path} of run {run_id} is corrupt: {exc}") from exc

    def _restore_entry_script(self, run: Run, git: dict[str, Any], result: ReproduceResult) -> None:
        code = as_dict(run.context.get("code"))
        script, artifact = code.get("entry_script"), code.get("artifact")
        if not isinstance(script, str) or not isinstance(artifact, str):
            result.not_restored.append(f"the entry script: {code.get('skipped') or 'not captured'}")
            return
        rel = self._script_path(run, git, result.git != "none")
        data = self._artifact_bytes(run.id, artifact)
        if data is None:
            result.warnings.append(f"the entry script's source ({artifact}) is not in the store")
            return
        out = result.into / rel
        result.entry_script = rel
        if out.is_file() and out.read_bytes() == data:
            result.entry_script_action = "matched"
            return
        if out.exists():
            result.entry_script_action = "replaced"
            result.warnings.append(
                f"{rel} in the checkout differed from the recorded entry script; replaced it"
            )
        else:
            result.entry_script_action = "written"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)

    @staticmethod
    def _script_path(run: Run, git: dict[str, Any], in_repo: bool) -> str:
        """Where the entry script goes: its path within the repository, else top-level."""
        code, command = as_dict(run.context.get("code")), as_dict(run.context.get("command"))
        script = str(code["entry_script"])
        cwd = command.get("cwd")
        absolute = str(Path(str(cwd)) / script) if cwd else script  # an absolute script stays as it is
        root = git.get("root")
        rel = path_inside(absolute, str(root)) if in_repo and root else None
        return rel if rel and not rel.startswith("..") else Path(script).name

    # -- generated files --------------------------------------------------------------------------------
    def _write_files(
        self, run: Run, git: dict[str, Any], result: ReproduceResult, links: list[DatasetLink]
    ) -> None:
        env = as_dict(run.context.get("environment"))
        names: dict[str, str] = {}
        for name in ("requirements.txt", "config.json", "params.json", "run.sh", "REPRODUCE.md"):
            # Never overwrite a file of the run's own code that happens to have the same name.
            free = name if not (result.into / name).exists() else f"mltrail.{name}"
            if free != name:
                result.warnings.append(f"the code has its own {name}; wrote {free} instead")
            names[name] = free
        packages = as_dict(env.get("packages"))
        reqs = requirements_lines(packages)
        result.packages = len(reqs)
        python = as_dict(env.get("python")).get("version")
        header = f"# Packages of mltrail run {run.id}" + (f" (Python {python})" if python else "")
        self._write(result, names["requirements.txt"], "\n".join([header, *reqs]) + "\n")
        if not packages:
            result.not_restored.append("package versions: not captured")
        dump = {"indent": 2, "sort_keys": True, "ensure_ascii": False}
        self._write(result, names["config.json"], json.dumps(unflatten_params(run.params), **dump) + "\n")  # type: ignore[arg-type]
        self._write(result, names["params.json"], json.dumps(run.params, **dump) + "\n")  # type: ignore[arg-type]
        self._write(result, names["run.sh"], run_script(run, git, result, names), executable=True)
        for link in links:
            ds = link.dataset
            digest = ds.digest if ds.digest.startswith("sha256") else f"sha256 {ds.digest}"
            rows = f", {ds.num_rows} rows" if ds.num_rows is not None else ""
            where = f" from {ds.source}" if ds.source else ""
            result.datasets.append(f"{link.role}: {ds.name} v{ds.version} {digest}{rows}{where}")
        if result.datasets:
            result.not_restored.append("dataset files (see the versions below)")
        others = [a.path for a in self.source.artifacts(run.id) if not a.path.startswith("code/")]
        if others:
            result.not_restored.append(f"{len(others)} other artifact(s), e.g. {', '.join(others[:5])}")
        result.files.append(names["REPRODUCE.md"])
        (result.into / names["REPRODUCE.md"]).write_text(readme(run, env, result, names), encoding="utf-8")
        exclude = result.into / ".git" / "info" / "exclude"
        if exclude.parent.is_dir():  # keep `git status` showing only the run's own changes
            with exclude.open("a", encoding="utf-8") as fh:
                fh.write(
                    "\n# written by mltrail runs reproduce\n"
                    + "\n".join(f"/{n}" for n in names.values())
                    + "\n"
                )

    @staticmethod
    def _write(result: ReproduceResult, name: str, text: str, executable: bool = False) -> None:
        path = result.into / name
        path.write_text(text, encoding="utf-8")
        if executable:
            path.chmod(0o755)
        result.files.append(name)


class ReproduceService(Reproducer):
    """``Reproducer`` over the embedded services (the composition root builds it)."""

    def __init__(
        self,
        tracking: TrackingService,
        artifacts: ArtifactService,
        datasets: DatasetService,
        apply_patch: PatchApplier,
    ) -> None:
        super().__init__(ServiceRunSource(tracking, artifacts, datasets), apply_patch)
