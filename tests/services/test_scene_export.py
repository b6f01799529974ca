"""Exporting imported scenes gives what exporting the files' own scene gives (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene, write_scene
from labelpilot.formats.pcd import read_pcd
from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.services.errors import ForbiddenError, InvalidError, NotFoundError
from labelpilot.store.blobs import BlobStore
from tests.services.scene_helpers import KITTI_SEQUENCE, Team, assign_task, kitti_domain, make_team


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal JSON-like content, floats to 1e-9 (relative); also numbers written as text."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), where
        for key in a:
            _same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _text_fields(path: Path) -> list[list[Any]]:
    """A whitespace-separated text file as rows of numbers (where they parse) and words."""

    def value(field: str) -> Any:
        try:
            return float(field)
        except ValueError:
            return field

    return [[value(f) for f in line.split()] for line in path.read_text().splitlines()]


def _without_stream_uris(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenLABEL document minus where payloads live (file paths in one, blob files in the other)."""
    for frame in document["openlabel"]["frames"].values():
        for stream in frame.get("frame_properties", {}).get("streams", {}).values():
            assert stream.pop("uri")
            stream.pop("stream_properties")
    return document


@pytest.fixture
def kitti_import(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> tuple[Team, int, BlobStore]:
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        scene_id = scenes.import_scene(
            s,
            blobs,
            team.manager,
            team.project_id,
            "kitti-tracking",
            sample_dir / "kitti-tracking",
            KITTI_SEQUENCE,
        ).id
    return team, scene_id, blobs


def test_openlabel_and_kitti_exports_equal_the_exports_of_the_files(
    db_factory: sessionmaker[Session],
    sample_dir: Path,
    tmp_path: Path,
    kitti_import: tuple[Team, int, BlobStore],
) -> None:
    team, scene_id, blobs = kitti_import
    domain = kitti_domain(sample_dir)
    for layer in ("ground_truth", "auto:pointrcnn_Car_hailanyi"):
        ours_path, theirs_path = tmp_path / f"db-{layer}.json", tmp_path / f"files-{layer}.json"
        with db_factory.begin() as s:
            written = scenes.export_scene(s, blobs, team.reviewer, scene_id, "openlabel", layer, ours_path)
        assert written == [ours_path]
        write_scene("openlabel", domain, theirs_path, layer)
        ours, theirs = (json.loads(p.read_text()) for p in (ours_path, theirs_path))
        # The stored scene's stream URIs name the blob files, which exist.
        uris = [
            stream["uri"]
            for frame in ours["openlabel"]["frames"].values()
            for stream in frame["frame_properties"].get("streams", {}).values()
        ]
        assert uris and all(
            Path(uri).is_file() and Path(uri).is_relative_to(tmp_path / "blobs") for uri in uris
        )
        _same(_without_stream_uris(ours), _without_stream_uris(theirs), layer)
    for layer in ("ground_truth", "auto:pointrcnn"):
        ours_dir, theirs_dir = tmp_path / f"db-{layer}", tmp_path / f"files-{layer}"
        with db_factory.begin() as s:
            written = scenes.export_scene(s, blobs, SYSTEM, scene_id, "kitti-tracking", layer, ours_dir)
        reference = write_scene("kitti-tracking", domain, theirs_dir, layer)
        assert [p.relative_to(ours_dir) for p in written] == [p.relative_to(theirs_dir) for p in reference]
        for ours_file, theirs_file in zip(written, reference, strict=True):
            _same(_text_fields(ours_file), _text_fields(theirs_file), str(ours_file))
        labels = next(p for p in written if p.parent.name == "label_02")
        # one line per shape, and per DontCare box (kept as the layer's 2D tracks)
        assert len(labels.read_text().splitlines()) == domain.layers[layer].shape_count()


def _sustech_content(files: list[Path], root: Path) -> dict[str, list[Any]]:
    """Each kind of file (lidar, label, calib, camera/<name>) in frame order, parsed."""
    content: dict[str, list[Any]] = {}
    for path in sorted(files):
        kind = str(path.parent.relative_to(root))
        if path.suffix == ".pcd":
            content.setdefault(kind, []).append(read_pcd(path).tolist())
        elif path.suffix == ".json":
            content.setdefault(kind, []).append(json.loads(path.read_text()))
        else:
            content.setdefault(kind, []).append(path.read_bytes())
    return content


@pytest.mark.parametrize("store", ["local", "memory"])
def test_sustechpoints_export_copies_sweeps_and_images(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path, store: str
) -> None:
    """Sweeps come out of the blob store (in place, or materialised from a remote store)."""
    root = sample_dir / "sustechpoints"
    blobs = BlobStore(str(tmp_path / "blobs") if store == "local" else f"memory://lp-{uuid.uuid4().hex}")
    with db_factory.begin() as s:
        team = make_team(s)
        scene_id = scenes.import_scene(s, blobs, team.manager, team.project_id, "sustechpoints", root).id
        written = scenes.export_scene(
            s, blobs, team.manager, scene_id, "sustechpoints", None, tmp_path / "db"
        )
    reference = write_scene("sustechpoints", read_scene("sustechpoints", root), tmp_path / "files")
    if store == "memory":  # the in-memory file system lives as long as the test process: free it
        blobs.delete_prefix(f"scenes/{scene_id}")
        assert not blobs.exists(f"scenes/{scene_id}")
    ours = _sustech_content(written, tmp_path / "db")
    theirs = _sustech_content(reference, tmp_path / "files")
    assert sorted(ours) == sorted(theirs) and ours["lidar"]
    for kind in ours:
        if kind == "lidar":
            assert ours[kind] == theirs[kind]  # float32 points, exactly
        else:
            _same(ours[kind], theirs[kind], kind)


def test_export_rights_and_bad_requests(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        scene_id = scenes.import_scene(
            s, blobs, team.manager, team.project_id, "sustechpoints", sample_dir / "sustechpoints"
        ).id
    out = tmp_path / "out"
    with db_factory.begin() as s:
        with pytest.raises(NotFoundError):
            scenes.export_scene(s, blobs, team.annotator, scene_id, "openlabel", None, out)
        assign_task(s, team.project_id, scene_id, team.annotator)
        with pytest.raises(ForbiddenError):
            scenes.export_scene(s, blobs, team.annotator, scene_id, "openlabel", None, out)
        with pytest.raises(InvalidError) as unknown:
            scenes.export_scene(s, blobs, team.manager, scene_id, "no-such-format", None, out)
        assert unknown.value.field == "format"
        with pytest.raises(InvalidError):
            scenes.export_scene(s, blobs, team.manager, scene_id, "kitti-odometry", None, out)
        with pytest.raises(NotFoundError):
            scenes.export_scene(s, blobs, team.manager, scene_id, "openlabel", "no-such-layer", out)
    assert not out.exists()
