"""Web UI sessions: an API key exchanged for a random token kept in an HttpOnly cookie. No HTTP here.

The token (``secrets.token_urlsafe(32)``, 256 random bits) is stored as its sha256 only, like a key. A session
lives until its expiry (``Settings.session_ttl``, never past its key's), its sign-out, or the moment its key
is revoked or expires or its user is disabled: the key and the user are read with the session on every
request. The CSRF token that writes must carry is derived from the session token (HMAC-SHA256), so it
needs no storage, the server can hand it out again after a page reload, and it reveals nothing of the
token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from mltrail.entities import WebSession
from mltrail.errors import AuthenticationError, PermissionDeniedError
from mltrail.services.accounts.service import KEY_ID_LENGTH, KEY_PREFIX, AccountService, Principal, hash_key
from mltrail.store.accounts import AccountStore

__all__ = [
    "CSRF_HEADER",
    "DEFAULT_SESSION_TTL",
    "CsrfError",
    "NewSession",
    "SessionService",
    "SignedIn",
    "csrf_token",
]

DEFAULT_SESSION_TTL = 12 * 3600.0
CSRF_HEADER = "X-CSRF-Token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{40,100}$")
_CSRF_CONTEXT = b"mltrail csrf v1"
_ENDED = "your session has ended: sign in again"


class CsrfError(PermissionDeniedError):
    """A cookie-authenticated write without the session's CSRF token (403; ``field`` names the header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = CSRF_HEADER


def csrf_token(token: str) -> str:
    """The CSRF token of the session whose cookie holds ``token``."""
    return hmac.new(token.encode("ascii"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session as a request sees it: who (``principal``) and until when."""

    principal: Principal
    session: WebSession
    csrf_token: str


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just made: ``token`` goes into the cookie and is stored nowhere."""

    signed_in: SignedIn
    token: str


class SessionService:
    """Sign-in with an API key, the session behind a cookie, CSRF checks and sign-out."""

    def __init__(
        self,
        store: AccountStore,
        accounts: AccountService,
        *,
        ttl: float = DEFAULT_SESSION_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.ttl = ttl
        self.clock = clock

    def sign_in(self, api_key: str | None) -> NewSession:
        """A new session for the key's user; AuthenticationError as for the key itself (missing, malformed,
        unknown, revoked, expired, disabled user)."""
        principal = self.accounts.authenticate(api_key)
        assert principal.key_id is not None
        key = self.accounts.get_key(principal.key_id)
        now = self.clock()
        expires = now + self.ttl
        if key.expires_at is not None:
            expires = min(expires, key.expires_at)
        token = secrets.token_urlsafe(32)
        session = self.store.create_session(
            token_hash=hash_key(token), key_id=key.key_id, created_at=now, expires_at=expires
        )
        return NewSession(SignedIn(principal, session, csrf_token(token)), token)

    def authenticate(self, token: str | None) -> SignedIn:
        """The live session of a cookie's token; AuthenticationError when there is none (unknown, signed
        out, expired, its key revoked or expired, its user disabled)."""
        if not token or not _TOKEN.match(token):
            raise AuthenticationError(
                "sign in first: send the session cookie from POST /api/v1/session, or an API key as"
                " 'Authorization: Bearer <key>'"
            )
        found = self.store.find_session_credential(hash_key(token))
        now = self.clock()
        if found is None or found.session.revoked_at is not None or now >= found.session.expires_at:
            raise AuthenticationError(_ENDED)
        if not found.key.usable_at(now) or found.user.disabled:
            raise AuthenticationError(_ENDED)
        user = found.user
        principal = Principal(name=user.name, role=user.role, key_id=found.key.key_id)
        return SignedIn(principal, found.session, csrf_token(token))

    def key_owner(self, api_key: str | None) -> str | None:
        """The user whose key id a presented key starts with (a failed sign-in is audited under it)."""
        text = (api_key or "").strip()
        if not text.startswith(KEY_PREFIX) or len(text) < KEY_ID_LENGTH:
            return None
        found = self.store.find_key_credential(text[:KEY_ID_LENGTH])
        return None if found is None else found.user.name

    @staticmethod
    def check_csrf(signed_in: SignedIn, presented: str | None) -> None:
        """A cookie-authenticated write must carry the session's CSRF token (compared in constant time)."""
        _compare_csrf(signed_in.csrf_token, presented)

    def sign_out(self, token: str, presented_csrf: str | None) -> str | None:
        """End the session now, if the CSRF token matches (CsrfError else); the user whose session it was,
        None when the token names no session. Signing out of an ended session is not an error."""
        if not _TOKEN.match(token):
            return None  # nothing it could name: no state to change, so no token to ask for
        _compare_csrf(csrf_token(token), presented_csrf)
        found = self.store.find_session_credential(hash_key(token))
        if found is None:
            return None
        self.store.revoke_session(hash_key(token), self.clock())
        return found.user.name


def _compare_csrf(expected: str, presented: str | None) -> None:
    if not presented:
        raise CsrfError(
            f"a write signed in by cookie must send the header {CSRF_HEADER} with the csrf_token"
            " of POST or GET /api/v1/session"
        )
    if not hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode("ascii")):
        raise CsrfError(
            f"the {CSRF_HEADER} header does not match this session: read csrf_token again from"
            " GET /api/v1/session"
        )
