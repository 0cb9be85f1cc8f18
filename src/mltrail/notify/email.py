"""Alert e-mails over SMTP: ``EmailSettings`` (from an ``smtp://`` URL), ``email_message``, ``send_email``."""

from __future__ import annotations

import contextlib
import dataclasses
import html
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mltrail.channels import validate_address
from mltrail.errors import InvalidInputError
from mltrail.notify.slack import alert_fields, alert_link, alert_summary

__all__ = ["EmailSettings", "SendResult", "email_message", "send_email", "validate_address"]

_SETTING = "smtp_url"
_MAX_ERROR_CHARS = 500
_MAX_RECIPIENTS = 50
# A bare addr-spec with a dot-atom local part and an ASCII domain: deliberately narrower than RFC 5322
# (no quoted local parts, no display names, no IDN), since these addresses go into headers verbatim.
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """How to reach the SMTP server. ``use_tls`` upgrades a plain connection with STARTTLS; ``use_ssl``
    speaks TLS from the first byte (SMTPS, usually port 465). ``timeout`` bounds each network operation."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    use_tls: bool = False
    use_ssl: bool = False
    sender: str = "mltrail@localhost"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.host:
            raise InvalidInputError("the SMTP host is empty", field=_SETTING)
        if not 0 < self.port < 65536:
            raise InvalidInputError(f"SMTP port out of range: {self.port}", field=_SETTING)
        if self.use_tls and self.use_ssl:
            raise InvalidInputError("use either STARTTLS or SMTPS (smtps://), not both", field=_SETTING)
        if not self.timeout > 0:
            raise InvalidInputError("the SMTP timeout must be positive", field=_SETTING)
        validate_address(self.sender, field=_SETTING)

    @classmethod
    def from_url(cls, url: str) -> EmailSettings:
        """Parse ``smtp://[user[:password]@]host[:port][?from=ADDR&starttls=1&timeout=S]`` or ``smtps://…``.

        User and password are percent-decoded. Without a port: 465 for ``smtps``, 587 with ``starttls=1``,
        else 25. ``from`` defaults to the user name when that is an address. Any other query key is refused,
        so that a misspelt ``startls=1`` cannot silently send in the clear.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise InvalidInputError(f"not an SMTP URL: {exc}", field=_SETTING) from None
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInputError("the SMTP URL must be smtp://host:port or smtps://…", field=_SETTING)
        if parts.path not in ("", "/") or parts.fragment:
            raise InvalidInputError("the SMTP URL takes no path or fragment", field=_SETTING)
        try:
            query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            raise InvalidInputError("malformed query in the SMTP URL", field=_SETTING) from None
        unknown = set(query) - {"from", "starttls", "timeout"}
        if unknown:
            raise InvalidInputError(
                f"unknown SMTP URL option(s): {', '.join(sorted(unknown))}", field=_SETTING
            )

        def option(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        starttls_text = (option("starttls") or "0").lower()
        if starttls_text not in _TRUE | _FALSE:
            raise InvalidInputError(f"starttls must be 1 or 0, not {starttls_text!r}", field=_SETTING)
        use_tls, use_ssl = starttls_text in _TRUE, scheme == "smtps"
        timeout = 10.0
        if option("timeout") is not None:
            try:
                timeout = float(option("timeout") or "")
            except ValueError:
                raise InvalidInputError("timeout must be a number of seconds", field=_SETTING) from None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        sender = option("from") or (username if username and "@" in username else None)
        if sender is None:
            raise InvalidInputError("the SMTP URL needs ?from=ADDRESS (the sender)", field=_SETTING)
        if port is None:
            port = 465 if use_ssl else 587 if use_tls else 25
        return cls(
            host=parts.hostname,
            port=port,
            username=username,
            password=password,
            use_tls=use_tls,
            use_ssl=use_ssl,
            sender=sender,
            timeout=timeout,
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    """How sending went: ``ok`` when the server accepted the message for every recipient; else ``error``."""

    ok: bool
    error: str | None
    duration_ms: float


def _recipients(to: Sequence[str]) -> list[str]:
    if isinstance(to, str):
        # A lone string is a sequence of characters: refuse it rather than mail "a", "n", "a"...
        raise InvalidInputError("recipients must be a list of addresses, not one string", field="to")
    addresses = [validate_address(a) for a in to]
    if not addresses:
        raise InvalidInputError("no recipients", field="to")
    if len(addresses) > _MAX_RECIPIENTS:
        raise InvalidInputError(f"more than {_MAX_RECIPIENTS} recipients", field="to")
    return list(dict.fromkeys(addresses))


def email_message(alert: Mapping[str, Any], *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The alert as an e-mail: subject ``[mltrail] ALERT <state>: <metric> on <model>:<version> …``, a
    plain-text body listing the fields, and an HTML alternative with the same content."""
    recipients = _recipients(to)
    validate_address(sender, field="sender")
    summary = alert_summary(alert)
    fields = alert_fields(alert)
    link = alert_link(alert)
    title = " ".join(str(alert.get("title") or "").split())

    lines = [title or summary, ""]
    width = max((len(label) for label, _ in fields), default=0)
    lines += [f"{label + ':':<{width + 1}} {text}" for label, text in fields]
    if link:
        lines += ["", f"Open in mltrail: {link}"]
    lines += ["", "-- ", "Sent by mltrail production monitoring."]

    rows = "".join(
        f"<tr><th align='left' style='padding:2px 12px 2px 0'>{html.escape(label)}</th>"
        f"<td>{html.escape(text)}</td></tr>"
        for label, text in fields
    )
    link_html = f"<p><a href='{html.escape(link, quote=True)}'>Open in mltrail</a></p>" if link else ""
    body_html = (
        f"<html><body><h2>{html.escape(title or summary)}</h2><table>{rows}</table>{link_html}"
        "<p style='color:#888'>Sent by mltrail production monitoring.</p></body></html>"
    )

    message = EmailMessage()
    message["Subject"] = f"[mltrail] {summary}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    # An explicit domain: make_msgid would otherwise look up this host's FQDN, which can stall on DNS.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content("\n".join(lines) + "\n")
    message.add_alternative(body_html, subtype="html")
    return message


def send_email(settings: EmailSettings, to: Sequence[str], alert: Mapping[str, Any]) -> SendResult:
    """Mail ``alert`` to ``to`` through the server in ``settings``. Malformed addresses raise
    ``InvalidInputError(field="to")``; network, TLS and SMTP failures never raise but come back as
    ``error``."""
    recipients = _recipients(to)
    message = email_message(alert, sender=settings.sender, to=recipients)
    started = time.perf_counter()
    try:
        error = _deliver(settings, recipients, message)
    # Never raise is the contract: the caller records the error as this delivery's outcome.
    except smtplib.SMTPRecipientsRefused as exc:
        error = "all recipients refused: " + _refusals(exc.recipients)
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP {exc.smtp_code}: {_decode(exc.smtp_error)}"
    except (smtplib.SMTPException, OSError, UnicodeError) as exc:
        text = str(exc) or type(exc).__name__
        error = f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
    duration_ms = (time.perf_counter() - started) * 1000.0
    return SendResult(error is None, error[:_MAX_ERROR_CHARS] if error else None, duration_ms)


def _deliver(settings: EmailSettings, recipients: list[str], message: EmailMessage) -> str | None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.use_ssl:
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.use_tls:
            if not smtp.has_extn("starttls"):
                # Refuse rather than fall back: the settings asked for an encrypted connection.
                return f"the SMTP server at {settings.host}:{settings.port} does not offer STARTTLS"
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        refused = smtp.send_message(message, from_addr=settings.sender, to_addrs=recipients)
        # The message is already accepted; a server that hangs up rudely afterwards changes nothing.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        if refused:
            return "some recipients refused: " + _refusals(refused)
        return None
    finally:
        smtp.close()


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {_decode(reply)})" for address, (code, reply) in refused.items())
