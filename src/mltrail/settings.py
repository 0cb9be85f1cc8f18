"""Where mltrail keeps its data and how it behaves: every ``MLTRAIL_*`` variable is read here, and only here.

``Settings.from_env()`` reads the environment (and the credentials ``mltrail login`` stored); the rest of
the code receives a ``Settings`` and never looks at ``os.environ`` for an ``MLTRAIL_*`` name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CAPTURE_PARTS", "MODES", "Credentials", "Settings", "default_config_dir"]

MODES = ("online", "offline", "disabled")
# When the web UI's session cookie carries ``Secure`` (MLTRAIL_COOKIE_SECURE).
COOKIE_SECURE = ("auto", "always")
# The longest a presigned S3 URL may last (SigV4's limit: 7 days).
MAX_PRESIGN = 7 * 86400.0
# The parts of a run's context that can be switched off one by one (MLTRAIL_CAPTURE_<PART>).
CAPTURE_PARTS = ("git", "code", "environment", "system_metrics", "console")


def _invalid(message: str, name: str) -> Exception:
    from mltrail.errors import InvalidInputError

    return InvalidInputError(message, field=name)


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise _invalid(f"{name} must be a number, got {raw!r}", name) from exc


def _env_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def _env_strict_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise _invalid(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}", name)


def _env_text(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    return raw or None


def _env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _home_or(fallback: Path, *parts: str) -> Path:
    try:
        return Path.home().joinpath(*parts)
    except RuntimeError:  # no home directory (some containers): beside the working directory instead
        return fallback.joinpath(*parts)


def _default_journal_dir() -> Path:
    """``~/.mltrail/journal``: one per user, so the next run and ``mltrail sync`` find it from any folder."""
    return _home_or(Path(".mltrail"), ".mltrail", "journal")


def default_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$MLTRAIL_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/mltrail``, else ``~/.config/mltrail``."""
    env = os.environ if env is None else env
    explicit = env.get("MLTRAIL_CONFIG_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    if xdg:
        return Path(xdg).expanduser() / "mltrail"
    return _home_or(Path(".mltrail"), ".config", "mltrail")


def normalize_server(url: str) -> str:
    """``ml-box:5500`` → ``http://ml-box:5500``; no trailing slash, so one server has one spelling."""
    url = url.strip().rstrip("/")
    if url and "://" not in url:
        url = f"http://{url}"
    return url


@dataclass(frozen=True, slots=True)
class Credentials:
    """What ``mltrail login`` stored: the default server and one API key per server (file mode 0600)."""

    path: Path
    default_server: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, config_dir: Path) -> Credentials:
        path = config_dir / "credentials.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        servers = data.get("servers") if isinstance(data, dict) else None
        keys = {
            normalize_server(str(url)): str(entry["api_key"])
            for url, entry in (servers.items() if isinstance(servers, dict) else ())
            if isinstance(entry, dict) and isinstance(entry.get("api_key"), str)
        }
        default = data.get("default_server") if isinstance(data, dict) else None
        return cls(path, normalize_server(default) if isinstance(default, str) and default else None, keys)

    def with_key(self, server: str, api_key: str | None, *, default: bool = True) -> Credentials:
        keys = dict(self.keys)
        server = normalize_server(server)
        if api_key:
            keys[server] = api_key
        else:
            keys.pop(server, None)
        return Credentials(self.path, server if default else self.default_server, keys)

    def without(self, server: str) -> Credentials:
        server = normalize_server(server)
        keys = {url: key for url, key in self.keys.items() if url != server}
        default = None if self.default_server == server else self.default_server
        return Credentials(self.path, default, keys)

    def save(self) -> None:
        """Written to a temporary file created 0600, then renamed over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body: dict[str, Any] = {
            "default_server": self.default_server,
            "servers": {url: {"api_key": key} for url, key in sorted(self.keys.items())},
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(body, fh, indent=2)
        tmp.replace(self.path)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, with the environment variable that sets it (documented in docs/SETTINGS.md).

    - ``home`` (``MLTRAIL_DIR``, default ``./mltrail``): the embedded store's folder.
    - ``db_url`` (``MLTRAIL_DB``): SQLAlchemy URL; default ``sqlite:///<home>/mltrail.db``.
    - ``blobs`` (``MLTRAIL_BLOBS``): folder or fsspec URL for artifact blobs; default ``<home>/blobs``.
    - ``s3_endpoint_url``, ``s3_region``, ``s3_profile``, ``s3_path_style`` (``MLTRAIL_S3_ENDPOINT_URL``,
      ``MLTRAIL_S3_REGION``, ``MLTRAIL_S3_PROFILE``, ``MLTRAIL_S3_PATH_STYLE``): how ``blobs`` of the form
      ``s3://bucket/prefix`` are reached (an S3-compatible server, its region, a credentials profile,
      path-style addressing); ignored for other blob stores. Credentials themselves are AWS's own
      (``AWS_ACCESS_KEY_ID`` …, a profile, an instance role), read by botocore.
    - ``s3_presign`` (``MLTRAIL_S3_PRESIGN``, 900 s): how long the presigned download URLs a server hands out
      for S3 blobs last; 0: every download streams through the server.
    - ``server`` (``MLTRAIL_SERVER``, else the server of ``mltrail login``): a team server's URL; empty
      means the embedded store.
    - ``api_key`` (``MLTRAIL_API_KEY``, else the key ``mltrail login`` stored for ``server``).
    - ``user`` (``MLTRAIL_USER``): who acts without a server account (else the OS user).
    - ``project`` (``MLTRAIL_PROJECT``): ``init``'s project when none is given.
    - ``flush_interval`` (``MLTRAIL_FLUSH_INTERVAL``, 0.2 s): how often the writer sends queued points.
    - ``heartbeat_interval`` (``MLTRAIL_HEARTBEAT_INTERVAL``, 5 s): how often a live run says it is alive.
    - ``heartbeat_timeout`` (``MLTRAIL_HEARTBEAT_TIMEOUT``, 60 s): a running run silent for longer reads
      as crashed.
    - ``system_metrics_interval`` (``MLTRAIL_SYSTEM_METRICS_INTERVAL``, 10 s): sampling period of ``sys/…``.
    - ``journal_dir`` (``MLTRAIL_JOURNAL_DIR``, ``~/.mltrail/journal``): where runs logged to a server (or
      offline) are journaled until the server acknowledges them.
    - ``mode`` (``MLTRAIL_MODE``, ``online``): ``offline`` journals only (``mltrail sync`` uploads later);
      ``disabled`` makes every call a no-op.
    - ``sync_timeout`` (``MLTRAIL_SYNC_TIMEOUT``, 30 s): how long ``finish()`` waits for the journal to reach
      the server before leaving the rest to the background sender and ``mltrail sync``.
    - ``smtp_url`` (``MLTRAIL_SMTP_URL``) and ``alert_webhook_secret`` (``MLTRAIL_ALERT_WEBHOOK_SECRET``):
      how alert notifications are sent.
    - ``capture`` (``MLTRAIL_CAPTURE`` and ``MLTRAIL_CAPTURE_<PART>``): which parts of a run's context are
      captured by default.
    - ``statement_timeout`` (``MLTRAIL_STATEMENT_TIMEOUT``, 60 s): how long a team server on PostgreSQL lets
      one statement run before stopping it (0: no limit).
    - ``webhook_allow`` / ``webhook_deny`` (``MLTRAIL_WEBHOOK_ALLOW`` / ``MLTRAIL_WEBHOOK_DENY``, hosts or
      networks, comma-separated): where a team server with accounts may post webhooks and Slack alerts
      besides public addresses, and where it may not (``notify/destinations.py``).
    - ``session_ttl`` (``MLTRAIL_SESSION_TTL``, 12 h): seconds a web UI sign-in lasts (never past its key).
    - ``cookie_secure`` (``MLTRAIL_COOKIE_SECURE``, ``auto``): ``auto`` marks the session cookie ``Secure``
      when the sign-in came over HTTPS (directly or, per ``X-Forwarded-Proto``, through a proxy);
      ``always`` marks it so whatever the request says (a TLS proxy that sends no such header).
    - ``config_dir`` (``MLTRAIL_CONFIG_DIR``, ``~/.config/mltrail``): where ``mltrail login`` keeps keys.
    - ``gateway`` (``MLTRAIL_GATEWAY``): set by ``mltrail serve --workers N`` for its worker processes (the
      deployment and options as JSON); not for users to set.
    """

    home: Path = field(default_factory=lambda: Path("mltrail"))
    db_url: str = ""
    blobs: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_profile: str | None = None
    s3_path_style: bool = False
    s3_presign: float = 900.0
    server: str = ""
    api_key: str | None = field(default=None, repr=False)
    user: str | None = None
    project: str | None = None
    flush_interval: float = 0.2
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 60.0
    system_metrics_interval: float = 10.0
    journal_dir: Path = field(default_factory=_default_journal_dir)
    mode: str = "online"
    sync_timeout: float = 30.0
    smtp_url: str | None = field(default=None, repr=False)
    alert_webhook_secret: str | None = field(default=None, repr=False)
    capture: Mapping[str, bool] = field(default_factory=lambda: dict.fromkeys(CAPTURE_PARTS, True))
    statement_timeout: float = 60.0
    webhook_allow: tuple[str, ...] = ()
    webhook_deny: tuple[str, ...] = ()
    session_ttl: float = 12 * 3600.0
    cookie_secure: str = "auto"
    config_dir: Path = field(default_factory=default_config_dir)
    gateway: str | None = field(default=None, repr=False)
    # Where ``server`` came from, for messages: "MLTRAIL_SERVER", "mltrail login", "--server", "server=".
    server_source: str = field(default="", metadata={"env": None})

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise _invalid(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}", "MLTRAIL_MODE")
        if self.cookie_secure not in COOKIE_SECURE:
            raise _invalid(
                f"MLTRAIL_COOKIE_SECURE must be one of {', '.join(COOKIE_SECURE)},"
                f" got {self.cookie_secure!r}",
                "MLTRAIL_COOKIE_SECURE",
            )
        if not 0 < self.session_ttl <= 366 * 86400.0:
            raise _invalid(
                f"MLTRAIL_SESSION_TTL must be seconds between 0 and a year, got {self.session_ttl!r}",
                "MLTRAIL_SESSION_TTL",
            )
        if self.s3_endpoint_url is not None and not re.match(r"^https?://[^/\s]+/?$", self.s3_endpoint_url):
            raise _invalid(
                "MLTRAIL_S3_ENDPOINT_URL must be http:// or https:// and a host (and port), e.g."
                f" http://127.0.0.1:9000, got {self.s3_endpoint_url!r}",
                "MLTRAIL_S3_ENDPOINT_URL",
            )
        if not 0 <= self.s3_presign <= MAX_PRESIGN:
            raise _invalid(
                f"MLTRAIL_S3_PRESIGN must be seconds between 0 (no presigned URLs) and {MAX_PRESIGN:.0f}"
                f" (7 days, S3's limit), got {self.s3_presign!r}",
                "MLTRAIL_S3_PRESIGN",
            )
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.home / 'mltrail.db'}")
        if not self.blobs:
            object.__setattr__(self, "blobs", str(self.home / "blobs"))
        object.__setattr__(self, "server", normalize_server(self.server))

    @property
    def embedded(self) -> bool:
        """No team server configured: the store is opened in this process."""
        return not self.server

    def with_server(self, server: str | None, api_key: str | None = None, *, source: str) -> Settings:
        """These settings pointed at ``server`` (``None``: unchanged; ``""``: the embedded store). Without
        ``api_key``, the environment's key, else the one ``mltrail login`` stored for that server."""
        import dataclasses

        if server is None:
            return self
        url = normalize_server(server)
        if not url:
            return dataclasses.replace(self, server="", api_key=None, server_source=source)
        key = api_key or os.environ.get("MLTRAIL_API_KEY", "").strip() or None
        if key is None:
            key = Credentials.load(self.config_dir).keys.get(url)
        return dataclasses.replace(self, server=url, api_key=key, server_source=source)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("MLTRAIL_DIR") or "mltrail")
        config_dir = default_config_dir(env)
        server = normalize_server(env.get("MLTRAIL_SERVER", ""))
        source = "MLTRAIL_SERVER" if server else ""
        api_key = _env_text(env, "MLTRAIL_API_KEY")
        explicit_store = bool(env.get("MLTRAIL_DIR") or env.get("MLTRAIL_DB"))
        if not server or api_key is None:
            credentials = Credentials.load(config_dir)
            if not server and not explicit_store and credentials.default_server:
                server, source = credentials.default_server, "mltrail login"
            if server and api_key is None:
                api_key = credentials.keys.get(server)
        everything = _env_flag(env, "MLTRAIL_CAPTURE", True)
        journal = env.get("MLTRAIL_JOURNAL_DIR")
        return cls(
            home=home,
            db_url=env.get("MLTRAIL_DB", ""),
            blobs=env.get("MLTRAIL_BLOBS", ""),
            s3_endpoint_url=_env_text(env, "MLTRAIL_S3_ENDPOINT_URL"),
            s3_region=_env_text(env, "MLTRAIL_S3_REGION"),
            s3_profile=_env_text(env, "MLTRAIL_S3_PROFILE"),
            s3_path_style=_env_strict_flag(env, "MLTRAIL_S3_PATH_STYLE", False),
            s3_presign=_env_float(env, "MLTRAIL_S3_PRESIGN", 900.0),
            server=server,
            api_key=api_key,
            user=_env_text(env, "MLTRAIL_USER"),
            project=_env_text(env, "MLTRAIL_PROJECT"),
            flush_interval=_env_float(env, "MLTRAIL_FLUSH_INTERVAL", 0.2),
            heartbeat_interval=_env_float(env, "MLTRAIL_HEARTBEAT_INTERVAL", 5.0),
            heartbeat_timeout=_env_float(env, "MLTRAIL_HEARTBEAT_TIMEOUT", 60.0),
            system_metrics_interval=_env_float(env, "MLTRAIL_SYSTEM_METRICS_INTERVAL", 10.0),
            journal_dir=Path(journal).expanduser() if journal else _default_journal_dir(),
            mode=(env.get("MLTRAIL_MODE") or "online").strip().lower(),
            sync_timeout=_env_float(env, "MLTRAIL_SYNC_TIMEOUT", 30.0),
            smtp_url=_env_text(env, "MLTRAIL_SMTP_URL"),
            alert_webhook_secret=env.get("MLTRAIL_ALERT_WEBHOOK_SECRET") or None,
            capture={
                part: _env_flag(env, f"MLTRAIL_CAPTURE_{part.upper()}", everything) for part in CAPTURE_PARTS
            },
            config_dir=config_dir,
            server_source=source,
            statement_timeout=_env_float(env, "MLTRAIL_STATEMENT_TIMEOUT", 60.0),
            webhook_allow=_env_list(env, "MLTRAIL_WEBHOOK_ALLOW"),
            webhook_deny=_env_list(env, "MLTRAIL_WEBHOOK_DENY"),
            gateway=_env_text(env, "MLTRAIL_GATEWAY"),
            session_ttl=_env_float(env, "MLTRAIL_SESSION_TTL", 12 * 3600.0),
            cookie_secure=(env.get("MLTRAIL_COOKIE_SECURE") or "auto").strip().lower(),
        )
