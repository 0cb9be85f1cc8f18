"""The one exception hierarchy of mltrail.

::

    MltrailError                 base of every error mltrail raises on purpose
    ├── AuthenticationError      no API key, or one that is unknown, revoked or expired, or whose user
    │                            is disabled                                                    (401)
    ├── PermissionDeniedError    the user's role is too low for the request                     (403)
    ├── NotFoundError            a project, run, artifact, dataset or metric that does not exist (404)
    ├── ConflictError            the request clashes with the current state, e.g. a duplicate   (409)
    │   └── RunFinishedError     logging to a run that has already finished
    ├── InvalidInputError        a malformed value; ``field`` names it                          (400)
    │   ├── InvalidFilterError   a filter or sort that does not parse; ``position`` points at it
    │   └── UntrustedModelError  a model whose format runs code on load (pickle), without trust (403)
    ├── IntegrityError           stored bytes whose sha256 does not match the recorded digest   (500)
    └── StoreError               the store cannot be read or written: locked, full, unreachable (503)

Metric values of the wrong type raise the built-in ``TypeError`` in the caller, as Python code expects.
The API layer maps each class to one HTTP status; the HTTP transport maps it back, so the SDK raises the same
error whether it runs embedded or against a server.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "IntegrityError",
    "InvalidFilterError",
    "InvalidInputError",
    "MltrailError",
    "NotFoundError",
    "PermissionDeniedError",
    "RunFinishedError",
    "StoreError",
    "UntrustedModelError",
]


class MltrailError(Exception):
    """Base class of every error mltrail raises on purpose."""

    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthenticationError(MltrailError):
    """The request carries no API key, or one that is unknown, revoked or expired, or its user is disabled."""

    http_status = 401


class PermissionDeniedError(MltrailError):
    """The user is known but their role is too low for the request.

    Where the user may not even see the project, the answer is ``NotFoundError`` instead, so that a hidden
    project or run looks exactly like a missing one.
    """

    http_status = 403


class NotFoundError(MltrailError):
    """A project, run, artifact, dataset or metric that does not exist."""

    http_status = 404


class ConflictError(MltrailError):
    """The request clashes with the current state."""

    http_status = 409


class RunFinishedError(ConflictError):
    """Logging to a run that has already finished."""


class InvalidInputError(MltrailError):
    """A malformed value; ``field`` names the offending field when there is one."""

    http_status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidFilterError(InvalidInputError):
    """A filter or sort expression that does not parse.

    ``position`` is the 0-based offset of the offending character in ``text``; ``str()`` shows the text with a
    caret under that position.
    """

    def __init__(self, message: str, text: str, position: int, field: str = "filter") -> None:
        super().__init__(message, field=field)
        self.text = text
        self.position = position

    def __str__(self) -> str:
        caret = " " * self.position + "^"
        return f"{self.message} at position {self.position}\n  {self.text}\n  {caret}"


class UntrustedModelError(InvalidInputError):
    """A model saved in a format that runs code when loaded (pickle, or types skops does not trust), loaded
    without ``trust=True``. The message says why and how to proceed.

    403, not 400: the request is well formed, but loading is refused until the caller (or, later, a
    server-side allow-list) trusts the model. ``field`` is ``"trust"``.
    """

    http_status = 403


class IntegrityError(MltrailError):
    """Stored bytes whose sha256 does not match the digest recorded for them."""

    http_status = 500


class StoreError(MltrailError):
    """The store cannot be read or written: locked past the timeout, disk full, unwritable, unreachable."""

    http_status = 503
