"""Serve the API and the built UI on one port, for trying the UI before ``mount_ui`` is wired in.

MLTRAIL_DIR=demo-data .venv/bin/python web/scripts/serve_ui.py --port 5613 [--auth]
"""

from __future__ import annotations

import argparse

import uvicorn

from mltrail.api.app import create_app
from mltrail.api.ui import mount_ui
from mltrail.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5613)
    parser.add_argument("--auth", action="store_true", help="require API keys")
    args = parser.parse_args()
    app = create_app(Settings.from_env(), auth=args.auth)
    mount_ui(app)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
