"""The content type an artifact's name suggests, for the UI's preview (text, JSON, CSV, image) and listings.

Guessed from the path alone with Python's built-in table (never the machine's ``/etc/mime.types``, so every
server answers alike) plus the kinds runs write often that the table lacks; the bytes are not sniffed.
"""

from __future__ import annotations

import mimetypes

__all__ = ["content_type"]

_TABLE = mimetypes.MimeTypes(filenames=())
_EXTRA = {
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".md": "text/markdown",
    ".log": "text/plain",
    ".patch": "text/x-diff",
    ".diff": "text/x-diff",
    ".cfg": "text/plain",
    ".ini": "text/plain",
    ".tsv": "text/tab-separated-values",
    ".csv": "text/csv",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
    ".webp": "image/webp",
}


def content_type(path: str) -> str:
    """``text/csv``, ``application/json``, ``image/png``…; ``application/octet-stream`` when unknown."""
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    if dot > 0 and name[dot:] in _EXTRA:
        return _EXTRA[name[dot:]]
    guessed, _ = _TABLE.guess_type(name, strict=False)
    return guessed or "application/octet-stream"
