"""The app of one ``mltrail serve --workers N`` worker process: uvicorn imports ``app_from_settings`` (a
factory) in each, and the options come from ``MLTRAIL_GATEWAY`` (``Settings.gateway``), which
``mltrail serve`` sets for them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

from mltrail.errors import InvalidInputError
from mltrail.serving.app import create_gateway_app
from mltrail.serving.build import build_gateway
from mltrail.settings import Settings

__all__ = ["app_from_settings", "worker_options"]


def worker_options(settings: Settings, deployment: str, *, trust: bool, max_body_bytes: int) -> str:
    """What the workers need, as the JSON ``app_from_settings`` reads (the store or server included)."""
    return orjson.dumps(
        {
            "deployment": deployment,
            "trust": trust,
            "max_body_bytes": max_body_bytes,
            "home": str(settings.home),
            "db_url": settings.db_url,
            "blobs": settings.blobs,
            "server": settings.server,
            "api_key": settings.api_key,
            "user": settings.user,
        }
    ).decode()


def app_from_settings() -> FastAPI:
    settings = Settings.from_env()
    if settings.gateway is None:
        raise InvalidInputError(
            "MLTRAIL_GATEWAY is not set: start workers with `mltrail serve`", "MLTRAIL_GATEWAY"
        )
    options: dict[str, Any] = orjson.loads(settings.gateway)
    settings = dataclasses.replace(
        settings,
        home=Path(options["home"]),
        db_url=options["db_url"],
        blobs=options["blobs"],
        server=options["server"],
        api_key=options["api_key"],
        user=options["user"],
    )
    name, trust = str(options["deployment"]), bool(options["trust"])
    return create_gateway_app(
        lambda: build_gateway(settings, name, trust=trust), max_body_bytes=int(options["max_body_bytes"])
    )
