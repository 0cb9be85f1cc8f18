"""``mltrail serve DEPLOYMENT``: the deployment gateway (uvicorn running ``mltrail.serving``)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from mltrail.cli.context import services
from mltrail.cli.server import _missing_server_extra
from mltrail.errors import InvalidInputError

__all__ = ["serve"]


def serve(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="The deployment to serve (see `mltrail deploy`).")],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (each loads the models).")] = 1,
    trust: Annotated[
        bool, typer.Option("--trust", help="Load models saved in formats that run code (pickle).")
    ] = False,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body in MiB (413 above it).")] = 8.0,
    poll: Annotated[
        float,
        typer.Option(
            "--poll",
            help="Seconds between checks of the spec and the aliases it names; a change is loaded beside the"
            " models serving and swapped in without downtime (0: never).",
        ),
    ] = 2.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve DEPLOYMENT: POST /v1/deployments/DEPLOYMENT/predict, /healthz, /readyz and /metrics."""
    try:
        import uvicorn

        from mltrail.serving.worker import gateway_app, worker_options
    except ImportError as exc:  # a base install: say which extra, not a traceback
        _missing_server_extra(exc, "serve")
    if not 1 <= workers <= 64:
        raise InvalidInputError(f"--workers must be 1-64, got {workers}", field="workers")
    if max_body_mb <= 0:
        raise InvalidInputError("--max-body-mb must be positive", field="max_body_mb")
    if not (poll == 0 or 0.05 <= poll <= 3600):
        raise InvalidInputError(f"--poll must be 0 (never) or 0.05-3600 seconds, got {poll:g}", field="poll")
    settings = services(ctx).settings
    max_bytes = int(max_body_mb * (1 << 20))
    # Fail here, with the CLI's message, when the deployment does not exist (before uvicorn starts).
    services(ctx).connection().deployments().get(deployment)
    if workers == 1:
        app = gateway_app(settings, deployment, trust=trust, max_body_bytes=max_bytes, poll=poll)
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
        return
    # Worker processes import the app by name; what they need travels in MLTRAIL_GATEWAY.
    os.environ.update(
        {
            "MLTRAIL_GATEWAY": worker_options(
                settings, deployment, trust=trust, max_body_bytes=max_bytes, poll=poll
            )
        }
    )
    uvicorn.run(
        "mltrail.serving.worker:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )
