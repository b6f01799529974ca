"""Scenes over HTTP on real sample data: upload-import, browse, lidar and image payloads, derived shapes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import Cuboid
from labelpilot.scenes import Scene
from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.store.blobs import etag_of
from tests.api.api_helpers import (
    KITTI_ROOT,
    TRACKER_LAYER,
    ApiTeam,
    blobs_of,
    make_api_team,
    sequence_files,
    upload,
    write_zip,
)
from tests.conftest import SAMPLE

ODOMETRY_DEMO = SAMPLE / "kitti-odometry-00-demo"


@pytest.fixture
def team(db_factory: sessionmaker[Session]) -> ApiTeam:
    return make_api_team(db_factory)


def _assert_cuboid(sent: dict[str, Any], expected: Cuboid) -> None:
    np.testing.assert_allclose(sent["center"], expected.center, atol=1e-9)
    np.testing.assert_allclose(sent["size"], expected.size, atol=1e-12)
    assert abs(abs(float(np.dot(sent["quaternion"], expected.quat_xyzw))) - 1.0) < 1e-12
    assert sent["yaw"] == pytest.approx(expected.yaw, abs=1e-9)


def _assert_shapes_match(client: TestClient, team: ApiTeam, scene_id: int, domain: Scene) -> int:
    """The shapes endpoint against Scene.shapes_in_frame, in the ego and the world frame; shapes compared."""
    compared = 0
    for layer in ("ground_truth", TRACKER_LAYER):
        for frame in range(0, len(domain.frames), 17):
            response = client.get(
                f"/api/scenes/{scene_id}/frames/{frame}/shapes",
                params={"layer": layer},
                headers=team.auth("rita"),
            )
            assert response.status_code == 200, response.text
            sent = {shape["key"]: shape for shape in response.json()}
            ego = {track.track_id: cuboid for track, cuboid in domain.shapes_in_frame(layer, frame, "ego")}
            world = {
                track.track_id: cuboid for track, cuboid in domain.shapes_in_frame(layer, frame, "world")
            }
            assert sorted(sent) == sorted(ego)
            labels = {t.track_id: t.label for t in domain.layer(layer).tracks}
            for key, shape in sent.items():
                assert shape["label"] == labels[key] and shape["status"] == (
                    "confirmed" if layer == "ground_truth" else "candidate"
                )
                _assert_cuboid(shape["ego"], ego[key])
                _assert_cuboid(shape["world"], world[key])
                compared += 1
    return compared


def test_upload_import_browse_and_shapes_of_a_kitti_sequence(
    client: TestClient, team: ApiTeam, tmp_path: Path
) -> None:
    files = sequence_files(KITTI_ROOT, "0000")
    assert {p.relative_to(KITTI_ROOT).parts[0] for p in files} >= {"training", "tracker", "detections"}
    archive = write_zip(tmp_path / "kitti-0000.zip", KITTI_ROOT, files, top="kitti-tracking")
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="kitti-tracking", sequence="0000"
    )
    assert response.status_code == 201, response.text
    domain = read_scene("kitti-tracking", KITTI_ROOT, "0000")
    created = response.json()
    scene_id = created["id"]
    assert created["frame_count"] == len(domain.frames)

    listed = client.get(f"/api/projects/{team.project_id}/scenes", headers=team.auth("rita")).json()
    assert [(s["id"], s["frame_count"]) for s in listed] == [(scene_id, len(domain.frames))]
    assert listed[0]["duration_s"] == pytest.approx(domain.duration_s)

    detail = client.get(f"/api/scenes/{scene_id}", headers=team.auth("rita")).json()
    assert detail["summary"]["source_format"] == "kitti-tracking"
    assert {s["name"]: s["kind"] for s in detail["sensors"]} == {
        **dict.fromkeys(domain.cameras, "camera"),
        "velodyne": "lidar",
    }
    expected_layers = {name: len(layer.tracks) for name, layer in domain.layers.items()} | {"work": 0}
    assert {layer["name"]: layer["track_count"] for layer in detail["layers"]} == expected_layers
    layers = client.get(f"/api/scenes/{scene_id}/layers", headers=team.auth("rita")).json()
    assert layers == detail["layers"]

    frames = client.get(f"/api/scenes/{scene_id}/frames", headers=team.auth("rita")).json()
    assert [f["index"] for f in frames] == [f.index for f in domain.frames]
    assert [f["timestamp_us"] for f in frames] == [f.timestamp_us for f in domain.frames]
    for sent, frame in zip(frames, domain.frames, strict=True):
        np.testing.assert_array_equal(np.reshape(sent["world_T_ego"], (3, 4)), frame.world_T_ego.matrix[:3])
        assert sent["has_lidar"] is False and sent["cameras"] == sorted(frame.images)

    assert _assert_shapes_match(client, team, scene_id, domain) > 50
    missing = client.get(
        f"/api/scenes/{scene_id}/frames/0/shapes", params={"layer": "nope"}, headers=team.auth("rita")
    )
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


@pytest.fixture
def odometry_scene(api_app: FastAPI, db_factory: sessionmaker[Session], team: ApiTeam) -> tuple[int, Scene]:
    """The bundled 30-sweep KITTI odometry drive imported through the service, and the same drive read directly."""
    with db_factory.begin() as s:
        row = scenes.import_scene(
            s, blobs_of(api_app), SYSTEM, team.project_id, "kitti-odometry", ODOMETRY_DEMO
        )
    return row.id, read_scene("kitti-odometry", ODOMETRY_DEMO)


def test_lidar_sweeps_decode_to_the_source_points_and_are_cacheable(
    client: TestClient, team: ApiTeam, odometry_scene: tuple[int, Scene]
) -> None:
    scene_id, domain = odometry_scene
    etags: set[str] = set()
    for frame in (domain.frames[0], domain.frames[len(domain.frames) // 2], domain.frames[-1]):
        assert frame.lidar is not None
        url = f"/api/scenes/{scene_id}/frames/{frame.index}/lidar"
        response = client.get(url, headers=team.auth("meg"))
        assert response.status_code == 200, response.text
        expected = read_sweep(frame.lidar)
        assert len(response.content) == len(expected) * 16
        np.testing.assert_array_equal(np.frombuffer(response.content, dtype="<f4").reshape(-1, 4), expected)
        assert response.headers["content-type"] == "application/octet-stream"
        assert int(response.headers["x-point-count"]) == len(expected)
        assert response.headers["etag"] == f'"{etag_of(response.content)}"'
        assert "max-age" in response.headers["cache-control"]
        etags.add(response.headers["etag"])
        again = client.get(url, headers={**team.auth("meg"), "If-None-Match": response.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == response.headers["etag"]
        other = client.get(url, headers={**team.auth("meg"), "If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.content == response.content
        listed = f'"something-else", W/{response.headers["etag"]}'  # a list, and a weak tag (RFC 9110)
        assert client.get(url, headers={**team.auth("meg"), "If-None-Match": listed}).status_code == 304
    assert len(etags) == 3  # each sweep has its own validator
    beyond = client.get(f"/api/scenes/{scene_id}/frames/{len(domain.frames)}/lidar", headers=team.auth("meg"))
    assert beyond.status_code == 404 and str(len(domain.frames)) in beyond.json()["error"]


def test_the_image_endpoint_returns_the_source_png(
    api_app: FastAPI, client: TestClient, db_factory: sessionmaker[Session], team: ApiTeam, tmp_path: Path
) -> None:
    # Sequence 0001 with its calibration, labels and the three bundled images (not its 5,000 detections).
    root = tmp_path / "kitti-0001"
    for path in sequence_files(KITTI_ROOT, "0001"):
        if path.relative_to(KITTI_ROOT).parts[0] == "training":
            (root / path.relative_to(KITTI_ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, root / path.relative_to(KITTI_ROOT))
    with db_factory.begin() as s:
        scene_id = scenes.import_scene(
            s, blobs_of(api_app), SYSTEM, team.project_id, "kitti-tracking", root, "0001"
        ).id
    source = KITTI_ROOT / "training" / "image_02" / "0001" / "000010.png"
    url = f"/api/scenes/{scene_id}/frames/10/images/image_02"
    response = client.get(url, headers=team.auth("cora"))
    assert response.status_code == 200, response.text
    assert response.content == source.read_bytes()
    assert response.headers["content-type"] == "image/png"
    assert (
        response.headers["etag"] == f'"{etag_of(source.read_bytes())}"' and response.headers["cache-control"]
    )
    cached = client.get(url, headers={**team.auth("cora"), "If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    frames = client.get(f"/api/scenes/{scene_id}/frames", headers=team.auth("cora")).json()
    with_images = [f["index"] for f in frames if f["cameras"]]
    assert with_images == sorted(int(p.stem) for p in source.parent.glob("*.png"))
    no_image = client.get(f"/api/scenes/{scene_id}/frames/11/images/image_02", headers=team.auth("cora"))
    assert no_image.status_code == 404 and "image_02" in no_image.json()["error"]
    other_camera = client.get(f"/api/scenes/{scene_id}/frames/10/images/image_03", headers=team.auth("cora"))
    assert other_camera.status_code == 404
