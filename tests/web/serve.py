"""The server the end-to-end test starts: ``create_app`` with authentication, plus the UI when
``create_app`` does not mount it itself yet. Run as a script with MLTRAIL_DIR set."""

from __future__ import annotations

import argparse

import uvicorn

from mltrail.api.app import create_app
from mltrail.api.ui import mount_ui
from mltrail.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(Settings.from_env(), auth=True)
    if not any(getattr(route, "path", None) == "/{path:path}" for route in app.routes):
        mount_ui(app)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
