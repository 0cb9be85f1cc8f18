"""A report written as one self-contained HTML file, or printed to PDF by headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidInputError, MltrailError

__all__ = ["CHROMIUM_CANDIDATES", "find_chromium", "write_html", "write_pdf"]

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_TIMEOUT = 120.0


def write_html(report: Mapping[str, Any], path: Path) -> Path:
    """The evaluated report (``ReportsClient.read``) as HTML at ``path``: inline CSS and SVG, no network."""
    from mltrail.render.report_document import render_report_document

    path.write_text(render_report_document(report), encoding="utf-8")
    return path


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium to print with: ``explicit``, else ``/usr/bin/chromium``, else one on PATH."""
    if explicit:
        if not Path(explicit).is_file():
            raise InvalidInputError(f"no browser at {explicit}", field="chromium")
        return explicit
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise MltrailError(
        "printing a PDF needs Chromium or Chrome, and none was found (looked for /usr/bin/chromium and "
        f"{', '.join(CHROMIUM_CANDIDATES)} on PATH): install it (Debian: apt-get install chromium) or "
        "pass --chromium PATH; or export --html and print that from a browser"
    )


def write_pdf(report: Mapping[str, Any], path: Path, *, chromium: str | None = None) -> Path:
    """The report printed to PDF at ``path`` by headless Chromium (no network: the HTML needs none)."""
    browser = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="mltrail-report-") as tmp:
        page = write_html(report, Path(tmp) / "report.html")
        target = path.resolve()
        args = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        env = {**os.environ, "HOME": tmp}
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, timeout=_TIMEOUT, env=env, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MltrailError(f"{browser} could not print the report: {exc}") from exc
        if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise MltrailError(
                f"{browser} could not print the report (exit {done.returncode}): {' '.join(tail)}"
            )
    return target
