"""The blob store on a local directory and on S3 (a real moto server): round trips, prefixes, keys."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from labelpilot.store.blobs import BlobKeyError, BlobStore, redacted_url, validate_key
from tests.store.conftest import SECRET_KEY, Request, split_s3_url

BAD_KEYS = [
    "",
    "../x",
    "..",
    ".",
    "./x",
    "/abs",
    "/etc/passwd",
    "a/../b",
    "a/./b",
    "a/..",
    "a//b",
    "a/",
    "a\\b",
    "..\\x",
    "a\x00b",
    "a\nb",
    "a b",
    "a:b",
    "C:/x",
    "s3://bucket/x",
    "a/b.c.d",
    "caf\u00e9",
    "\uff0e\uff0e/x",  # full-width dots
    "x" * 401,
]


def _payloads() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    return {
        "scenes/1/lidar/000000.f32": rng.random((1000, 4), dtype=np.float32).tobytes(),
        "scenes/1/lidar/000001.f32": rng.random((3, 4), dtype=np.float32).tobytes(),
        "scenes/1/images/image_02/000000.png": rng.bytes(70_001),
        "scenes/10/lidar/000000.f32": rng.bytes(16),
        "scenes/1x.f32": b"",
        "top": b"\x00\xff" * 5,
    }


def _blake2b_128(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def test_put_get_exists_round_trip(blob_root: str, stored_objects: Callable[[str], dict[str, bytes]]) -> None:
    store = BlobStore(blob_root)
    payloads = _payloads()
    for key, data in payloads.items():
        assert not store.exists(key)
        info = store.put(key, data)
        assert (info.key, info.size, info.etag) == (key, len(data), _blake2b_128(data))
    for key, data in payloads.items():
        assert store.exists(key)
        assert store.get(key) == data
    # What is really stored, looked at without BlobStore: exactly the blobs, no staging leftovers.
    assert stored_objects(blob_root) == payloads
    # Another store on the same root (another process, say) sees the same blobs.
    assert all(BlobStore(blob_root).get(key) == data for key, data in payloads.items())


def test_put_replaces_a_blob(blob_root: str, stored_objects: Callable[[str], dict[str, bytes]]) -> None:
    store = BlobStore(blob_root)
    store.put("scenes/3/lidar/000000.f32", b"old" * 100)
    store.put("scenes/3/lidar/000000.f32", b"new")
    assert store.get("scenes/3/lidar/000000.f32") == b"new"
    assert stored_objects(blob_root) == {"scenes/3/lidar/000000.f32": b"new"}


def test_missing_blobs(blob_root: str) -> None:
    store = BlobStore(blob_root)
    store.put("scenes/1/lidar/000000.f32", b"x")
    assert not store.exists("scenes/1/lidar/000001.f32")
    with pytest.raises(FileNotFoundError):
        store.get("scenes/1/lidar/000001.f32")
    with pytest.raises(FileNotFoundError):
        store.get("scenes/2/lidar/000000.f32")


def test_delete_prefix_removes_exactly_the_prefix(
    blob_root: str, stored_objects: Callable[[str], dict[str, bytes]]
) -> None:
    store = BlobStore(blob_root)
    payloads = _payloads()
    for key, data in payloads.items():
        store.put(key, data)
    store.delete_prefix("scenes/1")
    # Everything under "scenes/1/" went; "scenes/10/..." and "scenes/1x.f32" stay.
    expected = {k: v for k, v in payloads.items() if not k.startswith("scenes/1/")}
    assert len(expected) == 3
    assert stored_objects(blob_root) == expected
    assert not store.exists("scenes/1/lidar/000000.f32")
    store.delete_prefix("scenes/1")  # nothing left there: no error
    store.delete_prefix("scenes/77")  # never existed: no error
    store.delete_prefix("top")  # a single blob
    assert stored_objects(blob_root) == {k: v for k, v in expected.items() if k != "top"}


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(BlobKeyError):
        validate_key(key)


def test_good_keys_are_accepted() -> None:
    for key in ["a", "scenes/1/lidar/000000.f32", "scenes/12/images/image_02/000004.png", "x" * 400]:
        assert validate_key(key) == key


def _assert_every_operation_refuses(store: BlobStore, key: str) -> None:
    with pytest.raises(BlobKeyError):
        store.put(key, b"escape")
    with pytest.raises(BlobKeyError):
        store.get(key)
    with pytest.raises(BlobKeyError):
        store.exists(key)
    with pytest.raises(BlobKeyError):
        store.delete_prefix(key)


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_bad_keys_are_refused_before_touching_a_local_store(tmp_path: Path) -> None:
    store = BlobStore(str(tmp_path / "nest" / "blobs"))
    before = _tree(tmp_path)
    assert before == ["nest", "nest/blobs"]  # the root of a local store is created with it
    for key in BAD_KEYS:
        _assert_every_operation_refuses(store, key)
    assert _tree(tmp_path) == before


def test_bad_keys_are_refused_before_any_s3_request(s3_root: str, request_log: list[Request]) -> None:
    store = BlobStore(s3_root)
    store.put("kept", b"kept")
    assert request_log, "the server's request log is not being recorded"
    request_log.clear()
    for key in BAD_KEYS:
        _assert_every_operation_refuses(store, key)
    assert request_log == []


def test_s3_put_is_one_request_to_the_key(s3_root: str, request_log: list[Request]) -> None:
    """No staging object, no copy, no delete, no bucket probing: the blob appears whole or not at all."""
    bucket, prefix = split_s3_url(s3_root)
    store = BlobStore(s3_root)
    request_log.clear()
    store.put("scenes/5/lidar/000000.f32", os.urandom(300_000))
    assert request_log == [("PUT", f"/{bucket}/{prefix}/scenes/5/lidar/000000.f32", 200)]


def test_s3_store_creates_no_bucket(aws_env: str, s3_client: object, request_log: list[Request]) -> None:
    bucket = "labelpilot-no-such-bucket"
    store = BlobStore(f"s3://{bucket}/blobs")
    assert request_log == []  # constructing the store sends nothing
    with pytest.raises(FileNotFoundError):
        store.put("scenes/1/lidar/000000.f32", b"x")
    listed = s3_client.list_buckets()["Buckets"]  # type: ignore[attr-defined]
    assert bucket not in {b["Name"] for b in listed}


def test_s3_store_answers_from_the_server_not_from_listings_cached_in_the_process(
    s3_root: str, s3_client: object
) -> None:
    """Blobs another process wrote are seen, whatever else in this process listed the bucket before."""
    from fsspec.core import url_to_fs

    bucket, prefix = split_s3_url(s3_root)
    store = BlobStore(s3_root)
    store.put("scenes/1/lidar/000000.f32", b"first")
    other_user_of_fsspec, _ = url_to_fs(s3_root)  # e.g. a listing elsewhere in the app
    assert len(other_user_of_fsspec.ls(f"{bucket}/{prefix}/scenes/1/lidar")) == 1
    key = "scenes/1/lidar/000001.f32"
    s3_client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=b"second")  # type: ignore[attr-defined]
    assert store.exists(key)
    assert store.get(key) == b"second"


def test_local_root_and_repr(tmp_path: Path, s3_root: str) -> None:
    assert BlobStore(str(tmp_path / "b")).local_root == tmp_path / "b"
    assert BlobStore((tmp_path / "c").as_uri()).local_root == tmp_path / "c"
    assert (tmp_path / "c").is_dir()
    assert BlobStore(s3_root).local_root is None
    assert repr(BlobStore(s3_root)) == f"BlobStore({s3_root!r})"


def test_redacted_url_hides_credentials() -> None:
    assert redacted_url("ftp://user:hunter2@files.example.com/blobs") == "ftp://***@files.example.com/blobs"
    assert redacted_url("s3://AKIAXXXX:sEcReT@bucket/prefix") == "s3://***@bucket/prefix"
    assert redacted_url("s3://bucket/prefix") == "s3://bucket/prefix"
    assert redacted_url("/var/lib/labelpilot/blobs") == "/var/lib/labelpilot/blobs"


def test_no_log_record_carries_the_secret_key(
    s3_root: str, caplog: pytest.LogCaptureFixture, stored_objects: Callable[[str], dict[str, bytes]]
) -> None:
    """Everything logged at any level while the store works (and fails) leaves the secret key out."""
    with caplog.at_level(logging.DEBUG):
        store = BlobStore(s3_root)
        store.put("scenes/6/lidar/000000.f32", b"payload")
        assert store.get("scenes/6/lidar/000000.f32") == b"payload"
        assert store.exists("scenes/6/lidar/000000.f32")
        with pytest.raises(FileNotFoundError):
            store.get("scenes/6/lidar/000001.f32")
        store.delete_prefix("scenes/6")
    assert stored_objects(s3_root) == {}
    assert len(caplog.records) > 10  # botocore and s3fs did log their work
    leaking = [r.getMessage() for r in caplog.records if SECRET_KEY in r.getMessage()]
    assert leaking == []
    assert SECRET_KEY not in repr(store)
