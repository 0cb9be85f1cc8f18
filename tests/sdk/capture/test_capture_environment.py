"""capture_environment, capture_command and entry_script_source."""

from __future__ import annotations

import getpass
import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from mltrail.sdk.capture.environment import (
    capture_command,
    capture_environment,
    entry_script_source,
    normalize_package_name,
)


def _forbid_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"started a process: {args!r}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)


def test_environment_without_starting_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    _forbid_processes(monkeypatch)
    env = capture_environment()
    json.dumps(env)
    assert env["packages"]["pytest"] == importlib.metadata.version("pytest")
    assert env["packages"]["psutil"] == importlib.metadata.version("psutil")
    assert env["python"]["executable"] == sys.executable
    assert env["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert env["os"]["system"]
    assert env["os"]["platform"].startswith(env["os"]["system"])
    assert env["hostname"]
    assert env["cpu"]["logical_count"] >= 1
    assert env["cpu"]["count"] == env["cpu"]["logical_count"]
    assert env["memory_total_bytes"] > 0
    assert isinstance(env["gpus"], list)


def test_package_names_are_normalized() -> None:
    assert normalize_package_name("Foo_Bar.baz--Qux") == "foo-bar-baz-qux"
    packages = capture_environment()["packages"]
    assert packages
    assert all(name == normalize_package_name(name) for name in packages)
    assert list(packages) == sorted(packages)


def test_no_gpus_without_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    env = capture_environment()
    assert env["gpus"] == []
    assert "pynvml (nvidia-ml-py) is not installed" in env["note"]


class _NVMLError(Exception):
    pass


def _fake_pynvml(*, init_fails: bool = False) -> types.ModuleType:
    module = types.ModuleType("pynvml")
    state = {"shutdowns": 0}

    def init() -> None:
        if init_fails:
            raise _NVMLError("Driver Not Loaded")

    def shutdown() -> None:
        state["shutdowns"] += 1

    def temperature(handle: int, sensor: int) -> int:
        if handle == 1:
            raise _NVMLError("Not Supported")
        return 60 + handle

    attrs: dict[str, Any] = {
        "NVMLError": _NVMLError,
        "NVML_TEMPERATURE_GPU": 0,
        "nvmlInit": init,
        "nvmlShutdown": shutdown,
        "nvmlDeviceGetCount": lambda: 2,
        "nvmlDeviceGetHandleByIndex": lambda i: i,
        "nvmlDeviceGetName": lambda h: b"Tesla T4" if h == 0 else "NVIDIA A100",
        "nvmlDeviceGetMemoryInfo": lambda h: types.SimpleNamespace(total=16 * 2**30, used=2**30),
        "nvmlSystemGetDriverVersion": lambda: "550.54",
        "nvmlDeviceGetUtilizationRates": lambda h: types.SimpleNamespace(gpu=50 + h, memory=10),
        "nvmlDeviceGetTemperature": temperature,
        "state": state,
    }
    for name, value in attrs.items():
        setattr(module, name, value)
    return module


def test_gpus_through_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    gpus = capture_environment()["gpus"]
    assert gpus == [
        {"index": 0, "driver_version": "550.54", "name": "Tesla T4", "memory_total_bytes": 16 * 2**30},
        {"index": 1, "driver_version": "550.54", "name": "NVIDIA A100", "memory_total_bytes": 16 * 2**30},
    ]
    assert fake.state["shutdowns"] == 1


def test_nvml_failure_means_no_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(init_fails=True))
    env = capture_environment()
    assert env["gpus"] == []
    assert "NVML did not start: Driver Not Loaded" in env["note"]


def test_unknown_user_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(getpass, "getuser", no_user)
    env = capture_environment()
    assert env["user"] is None
    assert "user: unknown" in env["note"]


def test_command_of_this_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", "--lr", "0.1"])
    command = capture_command()
    json.dumps(command)
    assert command["argv"] == ["train.py", "--lr", "0.1"]
    assert command["executable"] == sys.executable
    assert command["cwd"] == str(tmp_path)
    assert command["entry_script"] == str(script.resolve())


def _run_python(args: list[str], cwd: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


_PRINT_COMMAND = (
    "import json; from mltrail.sdk.capture.environment import capture_command; "
    "print(json.dumps(capture_command()))"
)


def test_command_of_python_dash_c(tmp_path: Path) -> None:
    command = _run_python(["-c", _PRINT_COMMAND], tmp_path)
    assert command["argv"] == ["-c"]
    assert command["entry_script"] is None
    assert command["module"] is None


def test_command_of_a_script_and_of_python_dash_m(tmp_path: Path) -> None:
    package = tmp_path / "trainer"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(_PRINT_COMMAND.replace("; ", "\n")))
    (tmp_path / "train.py").write_text(textwrap.dedent(_PRINT_COMMAND.replace("; ", "\n")))

    as_module = _run_python(["-m", "trainer", "--epochs", "3"], tmp_path)
    assert as_module["module"] == "trainer"
    assert as_module["argv"][1:] == ["--epochs", "3"]
    assert as_module["entry_script"] == str((package / "__main__.py").resolve())

    as_script = _run_python(["train.py"], tmp_path)
    assert as_script["module"] is None
    assert as_script["entry_script"] == str((tmp_path / "train.py").resolve())


def test_notebook_kernel_has_no_entry_script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    launcher = tmp_path / "ipykernel_launcher.py"
    launcher.write_text("")
    monkeypatch.setattr(sys, "argv", [str(launcher), "-f", "kernel.json"])
    command = capture_command()
    assert command["entry_script"] is None
    assert "notebook" in command["note"]


def test_entry_script_source(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_bytes(b"print('h\xc3\xa9')\n")
    assert entry_script_source(script) == b"print('h\xc3\xa9')\n"
    assert entry_script_source(str(script)) == b"print('h\xc3\xa9')\n"
    assert entry_script_source(script, max_bytes=5) is None
    assert entry_script_source(tmp_path / "missing.py") is None
    assert entry_script_source(tmp_path) is None  # a directory


def test_packages_match_importlib_metadata() -> None:
    # The listing reads dist-info folder names instead of every METADATA file; it must say the same.
    expected: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        expected.setdefault(normalize_package_name(dist.metadata["Name"]), dist.version)
    assert capture_environment()["packages"] == dict(sorted(expected.items()))


def test_packages_from_egg_info_and_odd_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "Fancy_Pkg-1.2.post3.dist-info").mkdir(parents=True)
    egg = site / "legacy.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Legacy.Thing\nVersion: 0.9\n")
    odd = site / "odd.dist-info"  # no version in the folder name: read from its METADATA
    odd.mkdir()
    (odd / "METADATA").write_text("Metadata-Version: 2.1\nName: odd\nVersion: 4.5\n")
    (site / "empty.egg-info").mkdir()  # unreadable: counted in the note
    monkeypatch.setattr(sys, "path", [str(site)])
    env = capture_environment()
    assert env["packages"] == {"fancy-pkg": "1.2.post3", "legacy-thing": "0.9", "odd": "4.5"}
    assert "1 distribution(s) without a readable name or version" in env["note"]


def test_packages_are_listed_once_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "first-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(site)])
    assert capture_environment()["packages"] == {"first": "1.0"}
    (site / "second-2.0.dist-info").mkdir()
    assert capture_environment()["packages"] == {"first": "1.0"}  # cached for this sys.path
    monkeypatch.setattr(sys, "path", [str(site), str(tmp_path)])
    assert capture_environment()["packages"] == {"first": "1.0", "second": "2.0"}
