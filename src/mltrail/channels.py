"""Notification channel specs, in one place: ``webhook:URL``, ``slack:URL`` and ``email:ADDR[,ADDR…]`` are
parsed by ``parse_channel`` (which also gives a spec's canonical form) and shown by ``redact_channel``
(secrets hidden), wherever a spec is stored, listed, logged or sent (``mltrail.notify`` sends them)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from mltrail.errors import InvalidInputError

__all__ = ["MAX_URL_LENGTH", "Channel", "ChannelKind", "parse_channel", "redact_channel", "validate_address"]

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
_ADDRESS = re.compile(rf"{_LOCAL}@{_DOMAIN}")


def validate_address(address: str, field: str = "to") -> str:
    """``address`` if it is a plain ``local@domain`` address; otherwise ``InvalidInputError(field=field)``.
    Newlines and other control characters (header injection) are refused like any malformed address."""
    if not isinstance(address, str) or len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise InvalidInputError(f"not an e-mail address: {address!r}", field=field)
    return address


ChannelKind = Literal["webhook", "slack", "email"]
MAX_URL_LENGTH = 2048
_FIELD = "notify"
_MAX_RECIPIENTS = 50


@dataclass(frozen=True, slots=True, repr=False)
class Channel:
    """Where an alert goes: a signed webhook ``url``, a Slack incoming-webhook ``url``, or e-mail
    ``recipients``. ``repr`` and ``label`` hide a Slack URL's path and the secret, which are credentials."""

    kind: ChannelKind
    url: str | None = None
    recipients: tuple[str, ...] = ()
    secret: str | None = dataclasses.field(default=None, compare=False)

    @property
    def spec(self) -> str:
        """The canonical spec (kind in lower case, no stray spaces): what is stored for a rule."""
        if self.kind == "email":
            return "email:" + ",".join(self.recipients)
        return f"{self.kind}:{self.url}"

    @property
    def label(self) -> str:
        """The spec with its secrets left out, safe to log: ``slack:https://hooks.slack.com/…``."""
        if self.kind == "email":
            return "email:" + ",".join(self.recipients)
        parts = urlsplit(self.url or "")
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        # A Slack webhook's path is its token; a generic URL's query and user info may carry one too.
        path = "/…" if self.kind == "slack" else parts.path
        return f"{self.kind}:{parts.scheme}://{host}{path}"

    def __repr__(self) -> str:
        return f"Channel({self.label!r})"

    def __str__(self) -> str:
        return self.label


def _url(text: str, spec_kind: str) -> str:
    if not text:
        raise InvalidInputError(f"the {spec_kind} channel needs a URL: {spec_kind}:https://…", field=_FIELD)
    if len(text) > MAX_URL_LENGTH:
        raise InvalidInputError(f"the URL is longer than {MAX_URL_LENGTH} characters", field=_FIELD)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInputError("the URL contains whitespace or control characters", field=_FIELD)
    try:
        parts = urlsplit(text)
        _ = parts.port  # a non-numeric port raises only when read
    except ValueError as exc:
        raise InvalidInputError(f"not a URL: {exc}", field=_FIELD) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"the {spec_kind} URL must be http(s)://host/…", field=_FIELD)
    return text


def parse_channel(spec: str, *, secret: str | None = None) -> Channel:
    """Parse ``webhook:URL``, ``slack:URL`` or ``email:ADDR[,ADDR…]`` into a ``Channel``; anything else is
    ``InvalidInputError(field="notify")``. ``secret`` signs a webhook channel's requests (it is not part of
    the spec, so that specs can be listed and logged); other kinds ignore it."""
    kind, sep, rest = spec.strip().partition(":")
    kind = kind.lower()
    rest = rest.strip()
    if not sep or kind not in ("webhook", "slack", "email"):
        raise InvalidInputError(
            f"unknown notification channel {spec.strip()[:80]!r}: use webhook:URL, slack:URL or email:ADDR",
            field=_FIELD,
        )
    if kind == "email":
        addresses = [a.strip() for a in rest.split(",")]
        if not any(addresses):
            raise InvalidInputError("the email channel needs addresses: email:ana@example.com", field=_FIELD)
        try:
            recipients = tuple(dict.fromkeys(validate_address(a, field=_FIELD) for a in addresses))
        except InvalidInputError as exc:
            raise InvalidInputError(exc.message, field=_FIELD) from None
        if len(recipients) > _MAX_RECIPIENTS:
            raise InvalidInputError(f"more than {_MAX_RECIPIENTS} e-mail recipients", field=_FIELD)
        return Channel("email", recipients=recipients)
    url = _url(rest, kind)
    if kind == "slack":
        return Channel("slack", url=url)
    return Channel("webhook", url=url, secret=secret or None)


def redact_channel(spec: str) -> str:
    """A channel spec as shown to readers and kept in the notification log: a Slack URL's path is its
    token, and a webhook's user info or query may carry one, so those are hidden. The same parser as
    delivery reads it, so another spelling (``Slack:``, leading spaces) is hidden just the same; a spec
    that does not parse shows only its kind."""
    try:
        return parse_channel(spec).label
    except InvalidInputError:
        kind = spec.strip().partition(":")[0].strip().lower()
        return f"{kind}:(unreadable)" if kind in ("webhook", "slack", "email") else "(unreadable)"
