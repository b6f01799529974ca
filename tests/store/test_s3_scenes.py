"""Scenes on an s3:// blob root (a real moto server) behave as on a local one (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.services.errors import InvalidError
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import FrameRow, SceneRow
from tests.services.scene_helpers import make_team
from tests.store.conftest import Request

FOLDER = "kitti-odometry-00"


def _sweep_keys(db_factory: sessionmaker[Session], scene_id: int) -> list[str]:
    with db_factory.begin() as s:
        keys = s.scalars(
            select(FrameRow.lidar_blob).where(FrameRow.scene_id == scene_id).order_by(FrameRow.index)
        ).all()
    return [k for k in keys if k is not None]


@pytest.fixture
def local_and_s3(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path, s3_root: str
) -> tuple[tuple[BlobStore, int], tuple[BlobStore, int]]:
    """The sample KITTI odometry sequence imported once into a local store and once into S3."""
    local = BlobStore(str(tmp_path / "blobs"))
    remote = BlobStore(s3_root)
    with db_factory.begin() as s:
        project_id = make_team(s).project_id
        local_id = scenes.import_scene(s, local, SYSTEM, project_id, "kitti-odometry", sample_dir / FOLDER).id
    with db_factory.begin() as s:
        remote_id = scenes.import_scene(
            s, remote, SYSTEM, project_id, "kitti-odometry", sample_dir / FOLDER
        ).id
    return (local, local_id), (remote, remote_id)


def test_sweeps_stored_on_s3_are_served_like_local_ones(
    db_factory: sessionmaker[Session],
    sample_dir: Path,
    s3_root: str,
    local_and_s3: tuple[tuple[BlobStore, int], tuple[BlobStore, int]],
    stored_objects: Callable[[str], dict[str, bytes]],
) -> None:
    (local, local_id), (remote, remote_id) = local_and_s3
    clouds = sorted((sample_dir / FOLDER / "clouds").glob("*.pcd"))
    keys = _sweep_keys(db_factory, remote_id)
    assert len(keys) == len(clouds) == 4
    # The bucket holds exactly the scene's sweeps (nothing staged, nothing else).
    objects = stored_objects(s3_root)
    assert sorted(objects) == keys
    with db_factory.begin() as s:
        for frame in range(len(clouds)):
            local_bytes, local_etag = scenes.sweep_bytes(s, local, SYSTEM, local_id, frame)
            remote_bytes, remote_etag = scenes.sweep_bytes(s, remote, SYSTEM, remote_id, frame)
            assert remote_bytes == local_bytes == objects[keys[frame]]
            assert remote_etag == local_etag
            assert len(remote_bytes) > 0 and len(remote_bytes) % 16 == 0


def _without_stream_uris(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The OpenLABEL document minus where its payloads live, and those locations."""
    uris: list[str] = []
    for frame in document["openlabel"]["frames"].values():
        for stream in frame.get("frame_properties", {}).get("streams", {}).values():
            uris.append(stream.pop("uri"))
    return document, uris


def test_export_from_s3_equals_export_from_local(
    db_factory: sessionmaker[Session],
    tmp_path: Path,
    local_and_s3: tuple[tuple[BlobStore, int], tuple[BlobStore, int]],
) -> None:
    (local, local_id), (remote, remote_id) = local_and_s3
    outputs: dict[str, Path] = {}
    with db_factory.begin() as s:
        for name, blobs, scene_id in (("local", local, local_id), ("s3", remote, remote_id)):
            out = tmp_path / f"{name}.json"
            assert scenes.export_scene(s, blobs, SYSTEM, scene_id, "openlabel", None, out) == [out]
            outputs[name] = out
    local_doc, local_uris = _without_stream_uris(json.loads(outputs["local"].read_text()))
    remote_doc, remote_uris = _without_stream_uris(json.loads(outputs["s3"].read_text()))
    assert len(local_uris) == len(remote_uris) == 4
    assert all(Path(uri).is_file() for uri in local_uris)  # the local store's own files
    assert remote_doc == local_doc


def test_sustechpoints_export_copies_sweeps_out_of_s3(
    db_factory: sessionmaker[Session],
    tmp_path: Path,
    local_and_s3: tuple[tuple[BlobStore, int], tuple[BlobStore, int]],
) -> None:
    """Remote payloads are materialised for the writer: the exported PCD files are those of the local case."""
    (local, local_id), (remote, remote_id) = local_and_s3
    with db_factory.begin() as s:
        local_files = scenes.export_scene(
            s, local, SYSTEM, local_id, "sustechpoints", None, tmp_path / "local"
        )
        remote_files = scenes.export_scene(
            s, remote, SYSTEM, remote_id, "sustechpoints", None, tmp_path / "s3"
        )
    local_rel = [p.relative_to(tmp_path / "local") for p in local_files]
    assert [p.relative_to(tmp_path / "s3") for p in remote_files] == local_rel
    assert sum(1 for p in local_rel if p.suffix == ".pcd") == 4
    for ours, theirs in zip(remote_files, local_files, strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), ours


def test_failed_import_on_s3_leaves_no_objects(
    db_factory: sessionmaker[Session],
    sample_dir: Path,
    tmp_path: Path,
    s3_root: str,
    stored_objects: Callable[[str], dict[str, bytes]],
    request_log: list[Request],
) -> None:
    """A sweep that cannot be read after others were uploaded: the rows roll back, the objects go."""
    source = tmp_path / FOLDER
    shutil.copytree(sample_dir / FOLDER, source)
    clouds = sorted((source / "clouds").glob("*.pcd"), key=lambda p: int(p.stem))
    last = clouds[-1]
    last.write_bytes(last.read_bytes()[: len(last.read_bytes()) // 2])  # truncated mid-data
    blobs = BlobStore(s3_root)
    with db_factory.begin() as s:
        project_id = make_team(s).project_id
    with pytest.raises(InvalidError) as raised, db_factory.begin() as s:
        scenes.import_scene(s, blobs, SYSTEM, project_id, "kitti-odometry", source)
    assert last.name in str(raised.value)
    uploads = [r for r in request_log if r[0] == "PUT" and "/scenes/" in r[1] and r[2] == 200]
    assert len(uploads) == len(clouds) - 1  # the sweeps before the bad one did reach the bucket
    assert stored_objects(s3_root) == {}
    with db_factory.begin() as s:
        assert s.scalar(select(func.count(SceneRow.id))) == 0
