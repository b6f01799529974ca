"""A real S3 server (moto) on the loopback interface, reached by configuration alone.

The code under test gets no endpoint, region or credentials passed in: the ``aws_env`` fixture sets
the standard AWS environment variables a deployment would set, and s3fs/botocore read them. Only
the tests' own observers (``s3_client``, ``request_log``) talk to the server directly.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from s3fs import S3FileSystem

ACCESS_KEY = "labelpilot-test-key"
SECRET_KEY = "labelpilot-test-secret-0c9e71d4"
REGION = "us-east-1"
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_S3"
# Anything on the developer's machine that could point the code elsewhere or lend it other credentials.
_FOREIGN_AWS_VARIABLES = [
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
    "AWS_REGION",
]
_REQUEST_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

Request = tuple[str, str, int]
"""(method, path with query, status) of one request the S3 server answered."""


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server for the test session, on 127.0.0.1 and a port the OS picked free."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The environment of a deployment whose blob store is S3-compatible storage at the moto endpoint."""
    for name in _FOREIGN_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv(ENDPOINT_VARIABLE, moto_endpoint)
    # fsspec keeps one S3FileSystem per set of arguments for the process; one made under another
    # test's environment must not be reused.
    S3FileSystem.clear_instance_cache()
    yield moto_endpoint
    S3FileSystem.clear_instance_cache()


@pytest.fixture
def s3_client(moto_endpoint: str) -> Any:
    """A boto3 client for checking what is really on the server (explicitly configured, unlike the code)."""
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def s3_root(aws_env: str, s3_client: Any) -> str:
    """``s3://<new bucket>/blobs``: a bucket of its own for each test."""
    bucket = f"labelpilot-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/blobs"


@pytest.fixture(params=["local", "s3"])
def blob_root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The root URL of an empty blob store: a local directory (not yet created), or an S3 prefix."""
    if request.param == "local":
        return str(tmp_path / "blob-root" / "blobs")
    root: str = request.getfixturevalue("s3_root")
    return root


def split_s3_url(url: str) -> tuple[str, str]:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix


@pytest.fixture
def stored_objects(s3_client: Any) -> Callable[[str], dict[str, bytes]]:
    """Everything under a blob root, read without BlobStore: files of a directory, objects of a prefix."""

    def read(root: str) -> dict[str, bytes]:
        if not root.startswith("s3://"):
            base = Path(root)
            files = sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []
            return {p.relative_to(base).as_posix(): p.read_bytes() for p in files}
        bucket, prefix = split_s3_url(root)
        found: dict[str, bytes] = {}
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
            for item in page.get("Contents", []):
                body = s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                with body:
                    found[item["Key"].removeprefix(f"{prefix}/")] = body.read()
        return found

    return read


class _RequestRecorder(logging.Handler):
    """Collects the request lines the server logs (werkzeug logs one per request it answered)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.requests: list[Request] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = _REQUEST_LINE.search(_ANSI.sub("", record.getMessage()))
        if found:
            self.requests.append((found[1], found[2], int(found[3])))


@pytest.fixture
def request_log(moto_endpoint: str) -> Iterator[list[Request]]:
    """The requests the S3 server answers while the test runs, in order (clear it to start afresh)."""
    logger = logging.getLogger("werkzeug")
    recorder = _RequestRecorder()
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(recorder)
    try:
        yield recorder.requests
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(previous_level)
