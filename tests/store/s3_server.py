"""A real S3-compatible server for tests: moto's server app on 127.0.0.1, a free port, in a thread.

Every request it answers is logged (method, path, query), so tests can count what a blob costs. moto is a
test-only dependency (the ``dev`` group). ``start_auth_server`` runs moto's own ``moto_server`` in a
process of its own with IAM authentication switched on after the setup's requests, for the credential
tests (moto keeps that switch process-wide, so it cannot share the thread's process).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "REGION",
    "AuthS3",
    "MotoS3",
    "Request",
    "start_auth_server",
    "start_process_server",
    "start_server",
]

REGION = "us-east-1"
KEY_ID, SECRET = "testing", "testing"
MOTO_SERVER = str(Path(sys.executable).parent / "moto_server")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    checksum_sha256: str | None = None  # the x-amz-checksum-sha256 header, when sent


@dataclass
class MotoS3:
    """moto's S3 at ``url``; ``requests`` lists what it answered, oldest first."""

    url: str
    stop: Callable[[], None]
    requests: list[Request] = field(default_factory=list)

    def client(self, key_id: str = KEY_ID, secret: str = SECRET) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    def new_bucket(self) -> str:
        name = f"mltrail-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def reset_log(self) -> None:
        self.requests.clear()

    def counts(self, bucket: str) -> dict[str, int]:
        """Requests on ``bucket`` by method, ``PUT`` parts of a multipart upload counted apiece."""
        found: dict[str, int] = {}
        for request in self.requests:
            if request.path.lstrip("/").split("/", 1)[0] == bucket:
                found[request.method] = found.get(request.method, 0) + 1
        return found

    def env(self) -> dict[str, str]:
        """What a process needs to use this server as its blob store (with no trace of the developer's AWS
        configuration, nor a wait on the instance-metadata endpoint)."""
        return {
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MLTRAIL_S3_ENDPOINT_URL": self.url,
            "MLTRAIL_S3_REGION": REGION,
        }


def start_server() -> MotoS3:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = DomainDispatcherApplication(create_backend_app)
    log: list[Request] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        checksum = environ.get("HTTP_X_AMZ_CHECKSUM_SHA256")
        log.append(
            Request(
                environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""), checksum
            )
        )
        response: Iterable[bytes] = app(environ, start_response)
        return response

    server = make_server("127.0.0.1", 0, counting, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="moto-s3", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(10)

    return MotoS3(f"http://127.0.0.1:{server.server_port}", stop, log)


@dataclass
class AuthS3:
    """moto with IAM authentication: ``key_id``/``secret`` are a real user's keys, any other pair is
    refused; ``bucket`` exists."""

    url: str
    bucket: str
    key_id: str
    secret: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn(env: dict[str, str], timeout: float = 30.0) -> tuple[str, subprocess.Popen[bytes]]:
    port = _free_port()
    process = subprocess.Popen(
        [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=2.0)
            return url, process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto_server did not start on {url}") from None
            time.sleep(0.05)


def start_process_server() -> MotoS3:
    """moto's ``moto_server`` in a process of its own (no request log): a server that does not share this
    process's interpreter, for timings."""
    url, process = _spawn({})

    def stop() -> None:
        process.terminate()
        process.wait(10)

    return MotoS3(url, stop)


def start_auth_server() -> AuthS3:
    import boto3

    # The setup below takes four requests (bucket, user, key, policy); every later one is authenticated.
    url, process = _spawn({"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    setup = {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": "setup",
        "aws_secret_access_key": "setup",
    }
    bucket = f"mltrail-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", **setup).create_bucket(Bucket=bucket)
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="mltrail")
    key = iam.create_access_key(UserName="mltrail")["AccessKey"]
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    iam.put_user_policy(UserName="mltrail", PolicyName="s3", PolicyDocument=policy)
    return AuthS3(url, bucket, key["AccessKeyId"], key["SecretAccessKey"], process)
