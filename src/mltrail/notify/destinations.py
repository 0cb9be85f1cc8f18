"""Where a team server may post: webhooks and Slack URLs are checked against a destination policy, so a
member cannot make the server reach its own network (server-side request forgery, docs/NOTIFICATIONS.md).

By default every address that is not public is refused: private (10/8, 172.16/12, 192.168/16, fc00::/7),
loopback, link-local (169.254/16, the cloud metadata address among them), shared (100.64/10), multicast,
reserved and unspecified ones. ``MLTRAIL_WEBHOOK_ALLOW`` lists hosts or networks that are allowed all the
same (an internal chat relay), ``MLTRAIL_WEBHOOK_DENY`` more that are refused. A host name is resolved and
*every* address it resolves to must be allowed; the sender then connects to the address it checked, so a
name that resolves elsewhere a moment later (DNS rebinding) changes nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mltrail.channels import parse_channel
from mltrail.errors import InvalidInputError
from mltrail.settings import Settings

__all__ = ["DestinationPolicy"]


class _UnresolvedError(InvalidInputError):
    """A destination's host name does not resolve: at delivery a failed attempt, at creation no harm."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def _parse_entries(entries: Iterable[str], setting: str) -> tuple[tuple[Network, ...], frozenset[str]]:
    networks: list[Network] = []
    hosts: set[str] = set()
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if any(c in entry for c in "/: "):
                raise InvalidInputError(
                    f"{entry!r} is neither a host name nor a network", field=setting
                ) from None
            hosts.add(entry.rstrip("."))
    return tuple(networks), frozenset(hosts)


def _not_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _not_public(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _SHARED
    )


@dataclass(frozen=True)
class DestinationPolicy:
    allowed_networks: tuple[Network, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    denied_networks: tuple[Network, ...] = ()
    denied_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> DestinationPolicy:
        allowed, allowed_hosts = _parse_entries(settings.webhook_allow, "MLTRAIL_WEBHOOK_ALLOW")
        denied, denied_hosts = _parse_entries(settings.webhook_deny, "MLTRAIL_WEBHOOK_DENY")
        return cls(allowed, allowed_hosts, denied, denied_hosts)

    def _allowed(self, address: Address) -> bool:
        if any(address in net for net in self.denied_networks):
            return False
        if any(address in net for net in self.allowed_networks):
            return True
        return not _not_public(address)

    def resolve(self, url: str, *, field: str = "url") -> list[str]:
        """The addresses a POST to ``url`` may connect to, all allowed; else ``InvalidInputError`` naming
        ``field``, with the same message whatever the address (no reachability oracle)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        refused = InvalidInputError(
            f"the destination {host or url!r} is not allowed: it is, or resolves to, an address that is not"
            " public (private, loopback, link-local …). A server admin can allow it in MLTRAIL_WEBHOOK_ALLOW",
            field=field,
        )
        if not host or host in self.denied_hosts:
            raise refused
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            if not self._allowed(literal):
                raise refused
            return [str(literal)]
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise _UnresolvedError(f"the host {host!r} does not resolve", field=field) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if host in self.allowed_hosts:
            return addresses
        if not addresses or not all(self._allowed(ipaddress.ip_address(a)) for a in addresses):
            raise refused
        return addresses

    def check_url(self, url: str) -> None:
        """A registry webhook's URL (field ``url``), when it is created. A name that does not resolve
        (yet, or from here) is accepted: it reaches nothing, and every delivery resolves and checks again."""
        self._check(url, "url")

    def check_channel(self, spec: str) -> None:
        """An alert rule's channel (field ``notify``): e-mail goes through the configured SMTP server."""
        channel = parse_channel(spec)
        if channel.url is not None:
            self._check(channel.url, "notify")

    def _check(self, url: str, field: str) -> None:
        with contextlib.suppress(_UnresolvedError):
            self.resolve(url, field=field)
