"""What the blob store needs to know about S3 (s3fs): storage options from the settings, a plain HEAD, and
S3's failures said in terms of the settings that fix them.

Nothing here imports s3fs or botocore: the blob store's filesystem does, on first use, and the errors are
recognized by their names so that a store on a local folder never loads them.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mltrail.errors import MltrailError, StoreError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from mltrail.settings import Settings

__all__ = [
    "CREDENTIALS_HINT",
    "head_exists",
    "is_s3",
    "recorded_checksum",
    "remote_errors",
    "s3_error",
    "s3_storage_options",
    "sign_upload",
]

CREDENTIALS_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys),"
    " or MLTRAIL_S3_PROFILE to a profile of ~/.aws/credentials"
)
# botocore's errors about credentials, named so that botocore need not be imported to recognize them.
_NO_CREDENTIALS = ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError")


def is_s3(url: str) -> bool:
    return url.startswith(("s3://", "s3a://"))


def s3_storage_options(settings: Settings) -> dict[str, Any]:
    """s3fs's keyword arguments for ``settings.blobs`` (an ``s3://`` URL): endpoint, region, profile,
    addressing style. Presigned URLs are signed with SigV4, which every S3-compatible server accepts."""
    client: dict[str, Any] = {}
    if settings.s3_endpoint_url:
        client["endpoint_url"] = settings.s3_endpoint_url.rstrip("/")
    if settings.s3_region:
        client["region_name"] = settings.s3_region
    config: dict[str, Any] = {"signature_version": "s3v4"}
    if settings.s3_path_style:
        config["s3"] = {"addressing_style": "path"}
    options: dict[str, Any] = {"client_kwargs": client, "config_kwargs": config}
    if settings.s3_profile:
        options["profile"] = settings.s3_profile
    return options


def head_exists(fs: AbstractFileSystem, path: str) -> bool:
    """Whether the object at ``path`` exists, in one HEAD request. fsspec's ``exists`` on S3 follows a
    missing key with a listing (is it a folder?): two requests for every new blob."""
    call = getattr(fs, "call_s3", None)
    if call is None:
        return bool(fs.exists(path))
    bucket, key, _ = fs.split_path(path)
    try:
        call("head_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def remote_errors(url: str, doing: str) -> Iterator[None]:
    """An object store's failures about its configuration (credentials, profile, endpoint) raised as a
    StoreError naming the setting to fix, other OSErrors as a StoreError; FileNotFoundError (the caller
    knows what is missing), NotImplementedError and mltrail's own errors as they are."""
    try:
        yield
    except (MltrailError, FileNotFoundError, NotImplementedError):
        raise
    except Exception as exc:
        error = s3_error(exc, url, doing)
        if error is not None:
            raise error from exc
        if isinstance(exc, OSError):
            raise StoreError(f"cannot {doing} the blob store {url}: {exc}") from exc
        raise


def s3_error(exc: BaseException, url: str, doing: str) -> MltrailError | None:
    """A StoreError naming the setting to fix for failures that are about the configuration (credentials,
    profile, endpoint, bucket) rather than one blob; None for any other failure."""
    name = type(exc).__name__
    where = f"the blob store {url} (MLTRAIL_BLOBS)"
    if name in _NO_CREDENTIALS:
        return StoreError(f"cannot {doing} {where}: no S3 credentials were found ({exc}); {CREDENTIALS_HINT}")
    if name == "ProfileNotFound":
        return StoreError(f"cannot {doing} {where}: MLTRAIL_S3_PROFILE names no known profile ({exc})")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError"):
        return StoreError(
            f"cannot {doing} {where}: S3 is unreachable ({exc});"
            " check MLTRAIL_S3_ENDPOINT_URL and the network"
        )
    if isinstance(exc, PermissionError):
        return StoreError(
            f"cannot {doing} {where}: S3 refused the credentials or their rights ({exc}); {CREDENTIALS_HINT},"
            " with read and write rights on the bucket"
        )
    return None


def sign_upload(fs: AbstractFileSystem, path: str, digest: str, expires: int) -> tuple[str, dict[str, str]]:
    """A presigned PUT of the object at ``path`` and the headers its sender must add: the sha256 is a signed
    header, so S3 refuses the URL without it and a body that does not hash to it."""
    checksum = base64.b64encode(bytes.fromhex(digest)).decode()
    url = fs.url(path, expires=expires, client_method="put_object", ChecksumSHA256=checksum)
    return str(url), {"x-amz-checksum-sha256": checksum}


def recorded_checksum(fs: AbstractFileSystem, path: str) -> tuple[int, str | None] | None:
    """``(size, sha256 S3 recorded and checked at upload, base64)`` of the object at ``path`` (None for the
    checksum when the store keeps none); None when there is no object."""
    call = getattr(fs, "call_s3", None)
    if call is None:
        return None
    bucket, key, _ = fs.split_path(path)
    try:
        head = call("head_object", Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except FileNotFoundError:
        return None
    return int(head["ContentLength"]), head.get("ChecksumSHA256")
