"""Outbound notifications: signed webhook POSTs over HTTP (services get a poster injected)."""

from __future__ import annotations

from mltrail.notify.http import SIGNATURE_HEADER, HttpPoster, PostResult, sign, verify_signature

__all__ = ["SIGNATURE_HEADER", "HttpPoster", "PostResult", "sign", "verify_signature"]
