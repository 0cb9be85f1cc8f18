"""Errors in MLflow's shape, ``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}``, for every request
under MLflow's prefixes, so its client raises the ``MlflowException`` it expects."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from mltrail.errors import (
    AuthenticationError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    MltrailError,
    NotFoundError,
    PermissionDeniedError,
    RunFinishedError,
    StoreError,
)

__all__ = ["MLFLOW_PREFIXES", "UnsupportedError", "is_mlflow_path", "mlflow_error", "mlflow_status_error"]

MLFLOW_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")


class UnsupportedError(InvalidInputError):
    """An MLflow endpoint or option mltrail does not serve (MLflow's ``ENDPOINT_NOT_FOUND``)."""

    http_status = 404


def is_mlflow_path(path: str) -> bool:
    return path.startswith(MLFLOW_PREFIXES)


# The most specific class first; MLflow's codes and the statuses its server gives them.
_CODES: tuple[tuple[type[MltrailError], str, int], ...] = (
    (UnsupportedError, "ENDPOINT_NOT_FOUND", 404),
    (AuthenticationError, "UNAUTHENTICATED", 401),
    (PermissionDeniedError, "PERMISSION_DENIED", 403),
    (NotFoundError, "RESOURCE_DOES_NOT_EXIST", 404),
    (RunFinishedError, "INVALID_STATE", 400),
    (ConflictError, "RESOURCE_ALREADY_EXISTS", 400),
    (InvalidInputError, "INVALID_PARAMETER_VALUE", 400),
    (IntegrityError, "DATA_LOSS", 500),
    (StoreError, "TEMPORARILY_UNAVAILABLE", 503),
)


def mlflow_error(exc: MltrailError) -> JSONResponse:
    code, status = "INTERNAL_ERROR", 500
    for cls, name, http in _CODES:
        if isinstance(exc, cls):
            code, status = name, http
            break
    message = exc.message
    field = getattr(exc, "field", None)
    if code == "INVALID_PARAMETER_VALUE" and field and field not in message:
        message = f"{field}: {message}"
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    return JSONResponse({"error_code": code, "message": message}, status_code=status, headers=headers)


def mlflow_status_error(status: int, message: str) -> JSONResponse:
    """An HTTP-level error (validation, unknown route, method) in MLflow's shape."""
    code = {
        400: "INVALID_PARAMETER_VALUE",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "ENDPOINT_NOT_FOUND",
        405: "ENDPOINT_NOT_FOUND",
        413: "INVALID_PARAMETER_VALUE",
    }.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    return JSONResponse({"error_code": code, "message": message}, status_code=status)
