"""Which parts of a run's context are captured; each can be switched off in code or by environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from mltrail.errors import InvalidInputError

__all__ = ["CaptureOptions"]


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    """What ``mltrail.init`` records automatically. All on by default.

    - ``git``: commit, branch, remote, dirty flag and the full uncommitted diff (``code/diff.patch``).
    - ``code``: the entry script's source (``code/<script>``).
    - ``environment``: command line, working directory, Python, packages, OS, host, user, CPU, memory, GPUs.
    - ``system_metrics``: CPU %, RSS and GPU use sampled in the background as ``sys/…`` metrics.
    - ``console``: stdout and stderr copied to ``logs/output.log``.

    ``MLTRAIL_CAPTURE_<NAME>=0`` (e.g. ``MLTRAIL_CAPTURE_CONSOLE=0``) switches one off; ``MLTRAIL_CAPTURE=0``
    switches all off.
    """

    git: bool = True
    code: bool = True
    environment: bool = True
    system_metrics: bool = True
    console: bool = True

    @classmethod
    def resolve(
        cls,
        value: bool | Mapping[str, bool] | CaptureOptions | None,
        defaults: Mapping[str, bool] | None = None,
    ) -> CaptureOptions:
        """Combine the ``capture=`` argument with ``defaults`` (``Settings.capture``, from the environment);
        the argument wins."""
        known = {f.name for f in fields(cls)}
        base = cls(**{k: bool(v) for k, v in (defaults or {}).items() if k in known})
        if value is None:
            return base
        if isinstance(value, CaptureOptions):
            return value
        if isinstance(value, bool):
            return cls(**{f.name: value for f in fields(cls)})
        unknown = set(value) - known
        if unknown:
            raise InvalidInputError(
                f"unknown capture option(s) {sorted(unknown)}; known: {sorted(known)}", field="capture"
            )
        return replace(base, **{k: bool(v) for k, v in value.items()})
