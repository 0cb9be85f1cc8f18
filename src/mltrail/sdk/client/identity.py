"""Who acts when no server account decides: ``MLTRAIL_USER`` (``Settings.user``), else the OS user."""

from __future__ import annotations

import getpass

from mltrail.settings import Settings

__all__ = ["local_user", "os_user"]


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this environment (some containers)
        return None


def local_user(settings: Settings) -> str | None:
    return settings.user or os_user()
