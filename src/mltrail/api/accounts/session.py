"""``/api/v1/session``: the web UI's sign-in. An API key is exchanged for an HttpOnly, SameSite=Strict
cookie (``Path=/api``; ``Secure`` over HTTPS) and a CSRF token that every write must send back.

These routes sit outside the API's authentication dependency: signing in is how one gets authenticated.
A server without authentication has no sessions (409): every request there is already allowed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from mltrail.api.accounts.schemas import SessionCreate, SessionPublic
from mltrail.api.audit_log import audit_note, request_origin
from mltrail.api.authn import SESSION_COOKIE, came_over_https
from mltrail.api.deps import AuditDep, SessionsDep
from mltrail.entities import AuditEvent
from mltrail.errors import AuthenticationError, ConflictError
from mltrail.services.accounts.audit import AuditService
from mltrail.services.accounts.sessions import CSRF_HEADER

__all__ = ["router"]

router = APIRouter(prefix="/session", tags=["accounts"])
_PATH = "/api"
_NO_STORE = {"Cache-Control": "no-store"}


def _require_auth(request: Request) -> None:
    if not request.app.state.auth:
        raise ConflictError("the server runs without authentication: there is nothing to sign in to")


def _secure(request: Request) -> bool:
    return bool(request.app.state.cookie_secure == "always" or came_over_https(request))


def _record_failure(audit: AuditService, request: Request, user: str | None) -> None:
    """A refused sign-in, under the user whose key id was presented (if any): status 401."""
    origin = request_origin(request)
    audit.append(
        AuditEvent(
            time=audit.clock(),
            user=user,
            action="sign_in",
            method=request.method,
            path=request.url.path,
            status=401,
            client=origin.client,
            user_agent=origin.user_agent,
        )
    )


@router.post("", responses={401: {"description": "the key is missing, unknown, revoked or expired"}})
def sign_in(
    body: SessionCreate, request: Request, response: Response, sessions: SessionsDep, audit: AuditDep
) -> SessionPublic:
    """Exchange an API key for a session cookie. The answer holds the user, their server role, the
    session's expiry and ``csrf_token``: send it as ``X-CSRF-Token`` on every POST, PUT, PATCH and DELETE
    made with the cookie. The key itself is kept nowhere (only the key id the session was made from)."""
    _require_auth(request)
    try:
        made = sessions.sign_in(body.api_key)
    except AuthenticationError:
        _record_failure(audit, request, sessions.key_owner(body.api_key))
        raise
    signed_in = made.signed_in
    note = audit_note(request.scope)
    if note is not None:
        note.user = signed_in.principal.name
    lifetime = max(1, int(signed_in.session.expires_at - sessions.clock()))
    response.set_cookie(
        SESSION_COOKIE,
        made.token,
        max_age=lifetime,
        expires=lifetime,
        path=_PATH,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.headers.update(_NO_STORE)
    return SessionPublic.of(signed_in)


@router.get("")
def current_session(request: Request, response: Response, sessions: SessionsDep) -> SessionPublic:
    """The session of the cookie sent (401 when there is none, or it has ended): how the UI reads its CSRF
    token again after a page reload."""
    _require_auth(request)
    signed_in = sessions.authenticate(request.cookies.get(SESSION_COOKIE))
    response.headers.update(_NO_STORE)
    return SessionPublic.of(signed_in)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(request: Request, sessions: SessionsDep) -> Response:
    """Sign out: the session ends on the server at once and the cookie is cleared. Needs ``X-CSRF-Token``
    like any write; without a cookie (or with an ended session) there is nothing to do, and it answers 204."""
    _require_auth(request)
    token = request.cookies.get(SESSION_COOKIE)
    user = None if not token else sessions.sign_out(token, request.headers.get(CSRF_HEADER))
    note = audit_note(request.scope)
    if note is not None:
        note.user = user
    answer = Response(status_code=status.HTTP_204_NO_CONTENT, headers=_NO_STORE)
    answer.delete_cookie(
        SESSION_COOKIE, path=_PATH, secure=_secure(request), httponly=True, samesite="strict"
    )
    return answer
