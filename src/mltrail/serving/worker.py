"""The app of ``mltrail serve`` (``gateway_app``) and of each of its ``--workers N`` worker processes:
uvicorn imports ``app_from_settings`` (a factory) in each, and the options come from ``MLTRAIL_GATEWAY``
(``Settings.gateway``), which ``mltrail serve`` sets for them. Every process polls the deployment on its
own (``serving/reload.py``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

from mltrail.errors import InvalidInputError
from mltrail.serving.app import create_gateway_app
from mltrail.serving.build import RegistrySource
from mltrail.serving.reload import DEFAULT_POLL, GatewayReloader
from mltrail.settings import Settings

__all__ = ["app_from_settings", "gateway_app", "worker_options"]


def gateway_app(
    settings: Settings, deployment: str, *, trust: bool, max_body_bytes: int, poll: float = DEFAULT_POLL
) -> FastAPI:
    """The gateway of ``deployment``, polling it every ``poll`` seconds (0: never, as read at start)."""
    source = RegistrySource(settings, deployment, trust=trust)

    def watch(state: Any) -> GatewayReloader:
        return GatewayReloader(state, source, interval=poll)

    return create_gateway_app(
        lambda: source.build(None), max_body_bytes=max_body_bytes, watch=watch if poll > 0 else None
    )


def worker_options(
    settings: Settings, deployment: str, *, trust: bool, max_body_bytes: int, poll: float = DEFAULT_POLL
) -> str:
    """What the workers need, as the JSON ``app_from_settings`` reads (the store or server included)."""
    return orjson.dumps(
        {
            "deployment": deployment,
            "trust": trust,
            "max_body_bytes": max_body_bytes,
            "poll": poll,
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
    return gateway_app(
        settings,
        str(options["deployment"]),
        trust=bool(options["trust"]),
        max_body_bytes=int(options["max_body_bytes"]),
        poll=float(options.get("poll", DEFAULT_POLL)),
    )
