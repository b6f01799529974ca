"""A fresh process reaches the S3 blob store from environment variables alone, as a deployment would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.store.conftest import ACCESS_KEY, REGION, SECRET_KEY

_PUT_AND_GET = """
import sys
from labelpilot.settings import Settings
from labelpilot.store.blobs import BlobStore
store = BlobStore(Settings().resolved_blob_root)
data = sys.argv[1].encode()
store.put("scenes/1/lidar/000000.f32", data)
assert store.get("scenes/1/lidar/000000.f32") == data and store.exists("scenes/1/lidar/000000.f32")
print(repr(store))
"""


@pytest.mark.parametrize(
    "endpoint_variable", ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "FSSPEC_S3_ENDPOINT_URL"]
)
def test_blob_root_on_s3_by_environment_alone(
    endpoint_variable: str,
    s3_root: str,
    moto_endpoint: str,
    tmp_path: Path,
    stored_objects: Callable[[str], dict[str, bytes]],
) -> None:
    # The whole environment of the process: nothing inherited, no configuration files.
    environment = {
        "HOME": str(tmp_path),
        "LABELPILOT_HOME": str(tmp_path / "home"),
        "LABELPILOT_BLOB_ROOT": s3_root,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        endpoint_variable: moto_endpoint,
    }
    payload = f"written with {endpoint_variable}"
    done = subprocess.run(
        [sys.executable, "-c", _PUT_AND_GET, payload],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"BlobStore({s3_root!r})"
    assert SECRET_KEY not in done.stdout + done.stderr
    assert stored_objects(s3_root) == {"scenes/1/lidar/000000.f32": payload.encode()}
    assert not (tmp_path / "home").exists()  # nothing local was made for a remote store
