"""Imports point down only (DESIGN.md): a test, so the rule cannot quietly erode."""

from __future__ import annotations

import ast
from pathlib import Path

import mltrail

PACKAGE = Path(mltrail.__file__).parent
FOUNDATION = {
    "errors",
    "entities",
    "channels",
    "comparisons",
    "json_floats",
    "model_meta",
    "query_ast",
    "query",
    "settings",
}
ALLOWED: dict[str, set[str]] = {
    "foundation": {"foundation"},
    "stats": {"stats"},
    # notify: outbound deliveries (webhooks, Slack, e-mail). Services get a sender injected; only the
    # composition roots (sdk, api, cli) build one.
    "notify": {"notify", "foundation"},
    # render: report dicts into HTML and SVG, pure like stats; services may call it (drift_report.html).
    "render": {"render", "foundation"},
    "store": {"store", "stats", "foundation"},
    "services": {"services", "store", "stats", "render", "foundation"},
    "sdk": {"sdk", "services", "store", "stats", "render", "notify", "foundation"},
    "api": {"api", "services", "store", "stats", "render", "notify", "foundation"},
    # serving: the deployment gateway, a process of its own over the SDK's client seam (models.load, monitor);
    # stats (pure) for its latency sketches.
    "serving": {"serving", "sdk", "stats", "foundation"},
    "cli": {"cli", "sdk", "api", "serving", "services", "store", "stats", "render", "notify", "foundation"},
    "root": {"root", "sdk", "foundation"},
}
# The framework integrations' public entry points (``mltrail.sklearn``, ``mltrail.lightning`` …): thin
# modules of the package root over ``sdk/autolog``.
INTEGRATIONS = {"sklearn", "xgboost", "lightgbm", "lightning", "keras", "transformers", "spark"}
# Third-party modules that belong to one layer only.
OWNED = {
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "psycopg": {"store"},
    "fastapi": {"api", "serving"},
    "typer": {"cli"},
}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in INTEGRATIONS):
        return "root"
    head = parts[1]
    return "foundation" if head in FOUNDATION else head


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_imports_point_down() -> None:
    violations = []
    for module, path in _modules():
        if "migrations" in module.split("."):
            continue
        layer = _layer(module)
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "mltrail":
                target = _layer(name)
                if target not in ALLOWED[layer]:
                    violations.append(f"{module} ({layer}) imports {name} ({target})")
            elif top in OWNED and layer not in OWNED[top]:
                violations.append(f"{module} ({layer}) imports {top}, which belongs to {sorted(OWNED[top])}")
    assert not violations, "\n".join(violations)


def test_stats_is_pure() -> None:
    io_modules = {"os", "io", "pathlib", "socket", "subprocess", "shutil", "tempfile", "sqlite3", "urllib"}
    for module, path in _modules():
        if _layer(module) != "stats":
            continue
        used = {name.split(".")[0] for name in _imports(path)}
        assert not used & io_modules, f"{module} imports {used & io_modules}"


def _reads_environ(node: ast.AST) -> bool:
    """``os.environ.get(…)``, ``os.environ[…]``, ``environ.get(…)`` or ``os.getenv(…)``."""
    target = (
        node.func if isinstance(node, ast.Call) else node.value if isinstance(node, ast.Subscript) else None
    )
    if isinstance(target, ast.Attribute) and target.attr in ("get", "getenv", "pop", "setdefault"):
        target = target.value if target.attr != "getenv" else target
    text = ast.unparse(target) if target is not None else ""
    return text.endswith(("environ", "getenv"))


def test_settings_own_the_environment() -> None:
    # Every MLTRAIL_* variable is read in settings.py only; everything else receives a Settings.
    readers = []
    for module, path in _modules():
        if module == "mltrail.settings":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call | ast.Subscript) or not _reads_environ(node):
                continue
            keys = [a for a in ast.walk(node) if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            readers += [f"{module}:{node.lineno} {k.value}" for k in keys if k.value.startswith("MLTRAIL_")]
    assert not readers, "read MLTRAIL_* through Settings:\n" + "\n".join(readers)


def test_no_caller_outside_services_reaches_a_services_store() -> None:
    # ``something.store.method(...)`` from api/cli/sdk goes round the service and its rules.
    reaching = []
    for module, path in _modules():
        if _layer(module) not in {"api", "cli", "sdk", "root"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "store"
                and not (isinstance(node.value.value, ast.Name) and node.value.value.id == "self")
            ):
                reaching.append(f"{module}:{node.lineno} .store.{node.attr}")
            elif (  # ``x.monitoring.store``: a service's store taken out to be used elsewhere
                isinstance(node, ast.Attribute)
                and node.attr == "store"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr != "services"  # the container's own store (the tracking transport)
            ):
                reaching.append(f"{module}:{node.lineno} .{node.value.attr}.store")
    assert not reaching, "call a service method instead:\n" + "\n".join(reaching)


def test_the_composition_root_is_the_only_place_that_builds_services() -> None:
    built = {"TrackingService", "AccountService", "RegistryService", "MonitoringService", "AlertService"}
    found = []
    for module, path in _modules():
        if _layer(module) not in {"api", "cli", "sdk", "root"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in built:
                found.append(f"{module}:{node.lineno} {node.func.id}(…)")
    assert not found, "get services from services.container.Services:\n" + "\n".join(found)
