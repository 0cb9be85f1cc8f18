"""Where mltrail keeps its data and how it behaves, read from the environment with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        from mltrail.errors import InvalidInputError

        raise InvalidInputError(f"{name} must be a number, got {raw!r}", field=name) from exc


MODES = ("online", "offline")


def _default_journal_dir() -> Path:
    """``~/.mltrail/journal``: one per user, so the next run and ``mltrail sync`` find it from any folder."""
    try:
        return Path.home() / ".mltrail" / "journal"
    except RuntimeError:  # no home directory (some containers): beside the working directory instead
        return Path(".mltrail") / "journal"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, with the environment variable that sets it (documented in docs/SETTINGS.md).

    - ``home`` (``MLTRAIL_DIR``, default ``./mltrail``): the embedded store's folder.
    - ``db_url`` (``MLTRAIL_DB``): SQLAlchemy URL; default ``sqlite:///<home>/mltrail.db``.
    - ``blobs`` (``MLTRAIL_BLOBS``): folder or fsspec URL for artifact blobs; default ``<home>/blobs``.
    - ``flush_interval`` (``MLTRAIL_FLUSH_INTERVAL``, 0.2 s): how often the writer sends queued points.
    - ``heartbeat_interval`` (``MLTRAIL_HEARTBEAT_INTERVAL``, 5 s): how often a live run says it is alive.
    - ``heartbeat_timeout`` (``MLTRAIL_HEARTBEAT_TIMEOUT``, 60 s): a running run silent for longer reads
      as crashed.
    - ``system_metrics_interval`` (``MLTRAIL_SYSTEM_METRICS_INTERVAL``, 10 s): sampling period of ``sys/…``.
    - ``journal_dir`` (``MLTRAIL_JOURNAL_DIR``, ``~/.mltrail/journal``): where runs logged to a server (or
      offline) are journaled until the server acknowledges them.
    - ``mode`` (``MLTRAIL_MODE``, ``online``): ``offline`` journals only; ``mltrail sync`` uploads later.
    - ``sync_timeout`` (``MLTRAIL_SYNC_TIMEOUT``, 30 s): how long ``finish()`` waits for the journal to reach
      the server before leaving the rest to the background sender and ``mltrail sync``.
    """

    home: Path = field(default_factory=lambda: Path("mltrail"))
    db_url: str = ""
    blobs: str = ""
    flush_interval: float = 0.2
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 60.0
    system_metrics_interval: float = 10.0
    journal_dir: Path = field(default_factory=_default_journal_dir)
    mode: str = "online"
    sync_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            from mltrail.errors import InvalidInputError

            raise InvalidInputError(
                f"mode must be one of {', '.join(MODES)}, got {self.mode!r}", field="MLTRAIL_MODE"
            )
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.home / 'mltrail.db'}")
        if not self.blobs:
            object.__setattr__(self, "blobs", str(self.home / "blobs"))

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("MLTRAIL_DIR") or "mltrail")
        return cls(
            home=home,
            db_url=os.environ.get("MLTRAIL_DB", ""),
            blobs=os.environ.get("MLTRAIL_BLOBS", ""),
            flush_interval=_env_float("MLTRAIL_FLUSH_INTERVAL", 0.2),
            heartbeat_interval=_env_float("MLTRAIL_HEARTBEAT_INTERVAL", 5.0),
            heartbeat_timeout=_env_float("MLTRAIL_HEARTBEAT_TIMEOUT", 60.0),
            system_metrics_interval=_env_float("MLTRAIL_SYSTEM_METRICS_INTERVAL", 10.0),
            journal_dir=Path(os.environ.get("MLTRAIL_JOURNAL_DIR") or _default_journal_dir()).expanduser(),
            mode=(os.environ.get("MLTRAIL_MODE") or "online").strip().lower(),
            sync_timeout=_env_float("MLTRAIL_SYNC_TIMEOUT", 30.0),
        )
