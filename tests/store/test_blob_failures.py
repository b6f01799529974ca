"""A put that fails half-way leaves no partial blob under its key: a full disk, a lost connection."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from s3fs import S3FileSystem

from labelpilot.store.blobs import BlobStore, BlobStoreError
from tests.store.conftest import ENDPOINT_VARIABLE, SECRET_KEY
from tests.store.cutting_proxy import CuttingProxy

KEY = "scenes/4/lidar/000000.f32"

# Runs in its own process: the file size limit applies to the whole process. With SIGXFSZ ignored,
# a write past the limit fails with EFBIG (as on a full disk) instead of killing the process.
_PUT_UNDER_FILE_SIZE_LIMIT = """
import resource, signal, sys
from labelpilot.store.blobs import BlobStore
root, key, size, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    BlobStore(root).put(key, b"n" * size)
except OSError as err:
    print("failed", err.errno)
else:
    print("stored")
"""
_LIMIT = 64 * 1024


def _put_under_file_size_limit(root: Path, size: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PUT_UNDER_FILE_SIZE_LIMIT, str(root), KEY, str(size), str(_LIMIT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX resource limits")
def test_local_put_failing_mid_write_keeps_the_previous_blob(
    tmp_path: Path, stored_objects: Callable[[str], dict[str, bytes]]
) -> None:
    root = tmp_path / "blobs"
    BlobStore(str(root)).put(KEY, b"old blob")
    # Below the limit the put works in that process; past it, the write fails part-way.
    assert _put_under_file_size_limit(root, _LIMIT // 2) == "stored"
    assert BlobStore(str(root)).get(KEY) == b"n" * (_LIMIT // 2)
    assert _put_under_file_size_limit(root, 4 * _LIMIT) == f"failed {errno.EFBIG}"
    # The key still holds the last complete blob, and the staging file is gone.
    assert stored_objects(str(root)) == {KEY: b"n" * (_LIMIT // 2)}


def test_s3_put_cut_off_mid_upload_leaves_nothing(
    s3_root: str,
    aws_env: str,
    monkeypatch: pytest.MonkeyPatch,
    stored_objects: Callable[[str], dict[str, bytes]],
) -> None:
    BlobStore(s3_root).put("scenes/4/lidar/000001.f32", b"kept")
    data = os.urandom(512 * 1024)
    with CuttingProxy(aws_env, limit=128 * 1024) as proxy:
        # The deployment's endpoint now leads through a connection that breaks after 128 KiB.
        monkeypatch.setenv(ENDPOINT_VARIABLE, proxy.url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # s3fs still retries on its own, a few times
        S3FileSystem.clear_instance_cache()
        with pytest.raises(BlobStoreError) as raised:
            BlobStore(s3_root).put(KEY, data)
    assert KEY in str(raised.value) and SECRET_KEY not in str(raised.value)
    # The server did receive truncated uploads, and stored none of them.
    assert proxy.forwarded and all(sent == 128 * 1024 for sent in proxy.forwarded)
    assert stored_objects(s3_root) == {"scenes/4/lidar/000001.f32": b"kept"}
