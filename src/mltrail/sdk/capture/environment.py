"""Capture where and how a run runs: Python, packages, OS, host, hardware, and the command that started it."""

from __future__ import annotations

import getpass
import os
import platform
import re
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import psutil

from mltrail.sdk.capture._nvml import open_nvml

__all__ = ["capture_command", "capture_environment", "entry_script_source", "normalize_package_name"]

MAX_ENTRY_SCRIPT_BYTES = 5_000_000
_CPUINFO = Path("/proc/cpuinfo")
# Keys naming the CPU model in /proc/cpuinfo: x86, then ARM boards.
_CPUINFO_MODEL_KEYS = ("model name", "Model", "Hardware", "cpu model")
_NOTEBOOK_LAUNCHERS = ("ipykernel_launcher.py", "colab_kernel_launcher.py")


def normalize_package_name(name: str) -> str:
    """PEP 503: lower case, runs of ``-``, ``_`` and ``.`` become one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def capture_environment() -> dict[str, Any]:
    """Python, installed packages, OS, host, user, CPU, memory and GPUs. Never raises, starts no process.

    A part that cannot be read is ``None`` (or an empty list) and ``note`` says why.
    """
    notes: list[str] = []
    env: dict[str, Any] = {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "packages": _packages(notes),
        "os": _os_info(notes),
        "hostname": _hostname(notes),
        "user": _user(notes),
        "cpu": _cpu(notes),
        "memory_total_bytes": _memory_total(notes),
        "gpus": _gpus(notes),
    }
    if notes:
        env["note"] = "; ".join(notes)
    return env


# One listing per process and sys.path: reading every distribution's metadata costs 40-90 ms, and a sweep
# of short runs would pay it per run. A package installed by this process after its first run is missed.
_packages_cache: dict[tuple[str, ...], tuple[dict[str, str], list[str]]] = {}
_packages_lock = threading.Lock()


def _packages(notes: list[str]) -> dict[str, str]:
    """{normalized name: version} of every installed distribution; the first on ``sys.path`` wins."""
    key = tuple(sys.path)
    with _packages_lock:
        cached = _packages_cache.get(key)
        if cached is None:
            cached = _packages_cache[key] = _list_packages(key)
    packages, found_notes = cached
    notes.extend(found_notes)
    return dict(packages)


def _list_packages(path: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Name and version of a wheel-installed distribution come from its ``<name>-<version>.dist-info``
    folder name (what installers write, PEP 427/491), so no metadata file is read; other kinds (egg-info,
    zipped eggs, an oddly named folder) are read through ``importlib.metadata``."""
    packages: dict[str, str] = {}
    notes: list[str] = []
    broken = 0
    try:
        for entry in path:
            names: list[str] | None
            try:
                with os.scandir(entry or ".") as found:
                    names = [item.name for item in found]
            except NotADirectoryError:
                names = None
            except OSError:
                continue
            if names is None:  # a zip file on sys.path: let importlib.metadata look inside
                broken += _from_metadata(packages, entry, None)
                continue
            for name in names:
                if name.endswith(".dist-info"):
                    dist, sep, version = name[: -len(".dist-info")].partition("-")
                    if sep and dist and version and "-" not in version:
                        packages.setdefault(normalize_package_name(dist), version)
                        continue
                elif not name.endswith(".egg-info"):
                    continue
                broken += _from_metadata(packages, entry, name)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        notes.append(f"packages: listing stopped early: {exc}")
    if broken:
        notes.append(f"packages: {broken} distribution(s) without a readable name or version")
    return dict(sorted(packages.items())), notes


def _from_metadata(packages: dict[str, str], entry: str, name: str | None) -> int:
    """Add the distribution(s) at ``entry/name`` (all of ``entry`` when ``name`` is None) read through
    ``importlib.metadata``; returns how many had no readable name or version."""
    import importlib.metadata

    if name is None:
        dists = list(importlib.metadata.distributions(path=[entry]))
    else:
        dists = [importlib.metadata.PathDistribution(Path(entry or ".") / name)]
    broken = 0
    for dist in dists:
        try:
            dist_name = dist.metadata["Name"]
            version = dist.version
        except (OSError, KeyError, ValueError, UnicodeDecodeError):
            broken += 1
            continue
        if not dist_name or not version:
            broken += 1
            continue
        packages.setdefault(normalize_package_name(dist_name), version)
    return broken


def _os_info(notes: list[str]) -> dict[str, Any]:
    # platform.platform() and platform.processor() start `uname -p` on Linux; build the string from uname.
    uname = platform.uname()
    info: dict[str, Any] = {
        "system": uname.system,
        "release": uname.release,
        "version": uname.version,
        "machine": uname.machine,
    }
    parts = [uname.system, uname.release, uname.machine]
    try:
        if uname.system == "Linux":
            libc, libc_version = platform.libc_ver()
            if libc:
                parts += ["with", libc + libc_version]
            try:
                info["distribution"] = platform.freedesktop_os_release().get("PRETTY_NAME")
            except OSError:
                info["distribution"] = None
        elif uname.system == "Darwin":
            mac = platform.mac_ver()[0]
            if mac:
                parts = ["macOS", mac, uname.machine]
    except (OSError, ValueError) as exc:
        notes.append(f"os: {exc}")
    info["platform"] = "-".join(p for p in parts if p)
    return info


def _hostname(notes: list[str]) -> str | None:
    try:
        return socket.gethostname()
    except OSError as exc:
        notes.append(f"hostname: {exc}")
        return None


def _user(notes: list[str]) -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError) as exc:  # no login name and no passwd entry (e.g. containers)
        notes.append(f"user: unknown ({exc})")
        return None


def _cpu_model() -> str | None:
    try:
        with _CPUINFO.open(encoding="utf-8", errors="replace") as fh:
            found: dict[str, str] = {}
            for line in fh:
                key, sep, value = line.partition(":")
                key = key.strip()
                if sep and key in _CPUINFO_MODEL_KEYS and key not in found and value.strip():
                    found[key] = value.strip()
            for key in _CPUINFO_MODEL_KEYS:
                if key in found:
                    return found[key]
    except OSError:
        pass
    if _CPUINFO.exists():
        return None  # Linux without a model line: platform.processor() would only start `uname -p`
    return platform.processor() or None


def _cpu(notes: list[str]) -> dict[str, Any]:
    cpu: dict[str, Any] = {"model": _cpu_model(), "machine": platform.machine() or None}
    try:
        logical = psutil.cpu_count(logical=True)
        physical = psutil.cpu_count(logical=False)
    except (psutil.Error, OSError) as exc:
        notes.append(f"cpu: counts unknown ({exc})")
        logical = physical = None
    cpu.update({"count": logical, "logical_count": logical, "physical_count": physical})
    return cpu


def _memory_total(notes: list[str]) -> int | None:
    try:
        return int(psutil.virtual_memory().total)
    except (psutil.Error, OSError) as exc:
        notes.append(f"memory: {exc}")
        return None


def _gpus(notes: list[str]) -> list[dict[str, Any]]:
    session, why_not = open_nvml()
    if session is None:
        notes.append(f"gpus: {why_not}")
        return []
    try:
        return session.describe()
    finally:
        session.close()


def capture_command() -> dict[str, Any]:
    """How this process was started: ``argv``, ``executable``, ``cwd``, ``entry_script`` and ``module``.

    ``entry_script`` is the absolute path of ``sys.argv[0]`` when it is a ``.py`` file, else of
    ``__main__.__file__``; None in a REPL, a notebook or ``python -c``. ``module`` is the name given to
    ``python -m`` (``pkg`` for ``python -m pkg``), else None.
    """
    notes: list[str] = []
    argv = [str(a) for a in getattr(sys, "argv", [])]
    try:
        cwd: str | None = str(Path.cwd())
    except OSError as exc:  # the working directory was deleted
        cwd = None
        notes.append(f"cwd: {exc}")
    main = sys.modules.get("__main__")
    module: str | None = None
    spec = getattr(main, "__spec__", None)
    spec_name = getattr(spec, "name", None)
    if isinstance(spec_name, str) and spec_name:
        module = spec_name.removesuffix(".__main__")
    entry = _entry_script(argv, main, notes)
    info: dict[str, Any] = {
        "argv": argv,
        "executable": sys.executable,
        "cwd": cwd,
        "entry_script": entry,
        "module": module,
    }
    if notes:
        info["note"] = "; ".join(notes)
    return info


def _entry_script(argv: list[str], main: Any, notes: list[str]) -> str | None:
    first = argv[0] if argv else ""
    if "ipykernel" in sys.modules or Path(first).name in _NOTEBOOK_LAUNCHERS:
        notes.append("entry_script: running in a notebook kernel")
        return None
    candidates = []
    if first.endswith(".py"):
        candidates.append(first)
    main_file = getattr(main, "__file__", None)
    if isinstance(main_file, str) and main_file:
        candidates.append(main_file)
    for candidate in candidates:
        try:
            path = Path(candidate).resolve()
            if path.is_file():
                return str(path)
        except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop
            continue
    return None


def entry_script_source(path: Path | str, *, max_bytes: int = MAX_ENTRY_SCRIPT_BYTES) -> bytes | None:
    """The bytes of the entry script, or None when it cannot be read or is larger than ``max_bytes``."""
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except (OSError, ValueError):
        return None
    return data if len(data) <= max_bytes else None
