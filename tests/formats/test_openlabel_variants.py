"""OpenLABEL import of what other producers write: other cuboid and transform forms, other
coordinate systems, missing pieces. Each file is LabelPilot's own export of a real AV2 window,
rewritten here the way another tool would state the same geometry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kognic.openlabel.models import OpenLabelAnnotation
from scipy.spatial.transform import Rotation

from labelpilot.formats import openlabel
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Box2D, Provenance, Track2D, TrackStatus
from tests.formats.test_openlabel import LOG, build_scene, official_validator

Json = dict[str, Any]


@pytest.fixture(scope="module")
def scene(sample_dir: Path) -> Scene:
    return build_scene(sample_dir / "argoverse2" / "logs" / LOG, first_frame=110, count=12)


@pytest.fixture(scope="module")
def original(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Json:
    (path,) = openlabel.write(scene, tmp_path_factory.mktemp("variants") / "scene.json")
    loaded: Json = json.loads(path.read_text())
    return loaded


def read_back(document: Json, tmp_path: Path) -> Scene:
    # the reader checks the schema itself: a rewrite that broke it would fail the test there
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(document, indent=1))
    return openlabel.read(path)


def cuboids(document: Json) -> list[Json]:
    return [
        cuboid
        for frame in document["openlabel"]["frames"].values()
        for obj in (frame.get("objects") or {}).values()
        for cuboid in obj["object_data"].get("cuboid", [])
    ]


def assert_same_world_shapes(a: Scene, b: Scene, atol: float = 1e-6) -> None:
    restored = b.layer("ground_truth")
    for track in a.layer("ground_truth"):
        sa, sb = a.world_shapes(track), b.world_shapes(restored.track(track.track_id))
        assert sa.frames.tolist() == sb.frames.tolist()
        np.testing.assert_allclose(sb.cuboids.centers, sa.cuboids.centers, atol=atol)
        np.testing.assert_allclose(sb.cuboids.rotation_matrices(), sa.cuboids.rotation_matrices(), atol=atol)


def test_euler_cuboids_follow_the_zyx_convention(scene: Scene, original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    for cuboid in cuboids(document):
        v = cuboid["val"]
        rz, ry, rx = Rotation.from_quat(v[3:7]).as_euler("ZYX")
        cuboid["val"] = [*v[:3], rx, ry, rz, *v[7:]]
    assert_same_world_shapes(scene, read_back(document, tmp_path))


def test_euler_yaw_only_box_has_that_yaw(original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    first = next(c for c in cuboids(document))
    first["val"] = [1.0, 2.0, 0.5, 0.0, 0.0, 0.3, 4.0, 2.0, 1.5]
    first["coordinate_system"] = "odom"
    back = read_back(document, tmp_path)
    shapes = [back.world_shapes(t) for t in back.layer("ground_truth")]
    yaws = [
        float(s.cuboids.yaws[i])
        for s in shapes
        for i in range(len(s))
        if np.allclose(s.cuboids.centers[i], [1, 2, 0.5])
    ]
    assert yaws == [pytest.approx(0.3, abs=1e-12)]


def test_ego_transform_stated_the_other_way_with_a_quaternion(
    scene: Scene, original: Json, tmp_path: Path
) -> None:
    document = copy.deepcopy(original)
    for frame in document["openlabel"]["frames"].values():
        transforms = frame["frame_properties"]["transforms"]
        m = np.linalg.inv(
            np.asarray(transforms.pop("odom_to_ego")["transform_src_to_dst"]["matrix4x4"]).reshape(4, 4)
        )
        quaternion = Rotation.from_matrix(m[:3, :3]).as_quat().tolist()
        transforms["ego_pose"] = {
            "src": "ego",
            "dst": "odom",
            "transform_src_to_dst": {"quaternion": quaternion, "translation": m[:3, 3].tolist()},
        }
    back = read_back(document, tmp_path)
    for a, b in zip(scene.frames, back.frames, strict=True):
        assert b.world_T_ego.allclose(a.world_T_ego, atol=1e-9)
    assert_same_world_shapes(scene, back)


def test_cuboids_in_a_sensor_frame(scene: Scene, original: Json, tmp_path: Path) -> None:
    assert scene.lidar is not None
    sensor_T_ego = scene.lidar.ego_T_sensor.inverse()
    document = copy.deepcopy(original)
    for frame in document["openlabel"]["frames"].values():
        for obj in (frame.get("objects") or {}).values():
            for cuboid in obj["object_data"].get("cuboid", []):
                v = cuboid["val"]
                moved = sensor_T_ego @ Pose.from_quat_xyzw(v[3:7], v[:3])
                cuboid["val"] = [*moved.translation, *moved.quat_xyzw, *v[7:]]
                cuboid["coordinate_system"] = scene.lidar.name
    assert_same_world_shapes(scene, read_back(document, tmp_path))


def test_without_coordinate_systems_the_ego_is_the_world(original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    ol = document["openlabel"]
    del ol["coordinate_systems"]
    for frame in ol["frames"].values():
        del frame["frame_properties"]["transforms"]
    for cuboid in cuboids(document):
        del cuboid["coordinate_system"]
    back = read_back(document, tmp_path)
    assert all(f.world_T_ego.allclose(Pose.identity(), atol=0.0) for f in back.frames)
    assert any("no ego coordinate system" in note for note in back.notes)
    first = cuboids(document)[0]["val"]
    centres = np.concatenate([back.world_shapes(t).cuboids.centers for t in back.layer("ground_truth")])
    assert np.min(np.linalg.norm(centres - np.asarray(first[:3]), axis=1)) < 1e-12


def test_without_frame_transforms_the_ego_stays_at_its_static_pose(
    scene: Scene, original: Json, tmp_path: Path
) -> None:
    document = copy.deepcopy(original)
    for frame in document["openlabel"]["frames"].values():
        del frame["frame_properties"]["transforms"]
    back = read_back(document, tmp_path)
    assert all(f.world_T_ego.allclose(scene.frames[0].world_T_ego, atol=1e-9) for f in back.frames)
    assert any("taken as still" in note for note in back.notes)


def test_timestamps_as_json_numbers_keep_microseconds(scene: Scene, original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    for frame in document["openlabel"]["frames"].values():
        frame["frame_properties"]["timestamp"] = float(frame["frame_properties"]["timestamp"])
    back = read_back(document, tmp_path)
    assert [f.timestamp_us for f in back.frames] == [f.timestamp_us for f in scene.frames]


def test_no_timestamps_at_all_are_spaced_and_noted(original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    for frame in document["openlabel"]["frames"].values():
        del frame["frame_properties"]["timestamp"]
    back = read_back(document, tmp_path)
    assert [f.timestamp_us for f in back.frames] == [i * 100_000 for i in range(len(back.frames))]
    assert any("no timestamps" in note for note in back.notes)


def test_differing_sizes_give_the_median_and_a_note(scene: Scene, original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    uid, obj = next(
        (u, o)
        for u, o in document["openlabel"]["objects"].items()
        if len(scene.layer("ground_truth").track(o["name"]).frames()) >= 3
    )
    lengths: list[float] = []
    for number, frame in sorted(document["openlabel"]["frames"].items(), key=lambda kv: int(kv[0])):
        if "cuboid" in (frame.get("objects") or {}).get(uid, {}).get("object_data", {}):
            val = frame["objects"][uid]["object_data"]["cuboid"][0]["val"]
            val[7] += 0.1 * int(number)
            lengths.append(val[7])
    back = read_back(document, tmp_path)
    assert back.layer("ground_truth").track(obj["name"]).size[0] == pytest.approx(float(np.median(lengths)))
    assert any("median" in note and obj["name"] in note for note in back.notes)


def test_frames_not_starting_at_zero_are_renumbered(scene: Scene, original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    ol = document["openlabel"]
    ol["frames"] = {str(int(k) + 1000): v for k, v in ol["frames"].items()}
    for obj in ol["objects"].values():
        for interval in obj["frame_intervals"]:
            interval["frame_start"] += 1000
            interval["frame_end"] += 1000
    back = read_back(document, tmp_path)
    assert len(back.frames) == len(scene.frames)
    assert [t.first_frame for t in back.layer("ground_truth")] == [
        t.first_frame for t in scene.layer("ground_truth")
    ]
    assert any("were numbered 0.." in note for note in back.notes)


def test_repeated_names_fall_back_to_uids(original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    for obj in document["openlabel"]["objects"].values():
        obj["name"] = "same"
    back = read_back(document, tmp_path)
    assert [t.track_id for t in back.layer("ground_truth")] == list(document["openlabel"]["objects"])
    assert any("uids" in note for note in back.notes)


def test_object_level_cuboid_is_a_stationary_track(original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    ol = document["openlabel"]
    ol["objects"]["9999"] = {
        "name": "sign-1",
        "type": "SIGN",
        "frame_intervals": [{"frame_start": 2, "frame_end": 5}],
        "object_data": {
            "cuboid": [
                {
                    "name": "shape3D",
                    "val": [5.0, 1.0, 2.0, 0, 0, 0, 1, 0.5, 0.5, 2.0],
                    "coordinate_system": "odom",
                }
            ]
        },
    }
    track = read_back(document, tmp_path).layer("ground_truth").track("sign-1")
    assert (track.first_frame, track.last_frame) == (2, 5)
    np.testing.assert_allclose(track.size, [0.5, 0.5, 2.0])
    np.testing.assert_allclose(track.motion.keyframes[2].translation, [5.0, 1.0, 2.0])  # type: ignore[union-attr]


def test_nested_3x4_camera_matrix_is_read(scene: Scene, original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    for stream in document["openlabel"]["streams"].values():
        pinhole = (stream.get("stream_properties") or {}).get("intrinsics_pinhole")
        if pinhole:
            flat = pinhole.pop("camera_matrix")
            del pinhole["distortion_coeffs"]
            pinhole["camera_matrix_3x4"] = [flat[0:4], flat[4:8], flat[8:12]]
    back = read_back(document, tmp_path)
    for name, camera in scene.cameras.items():
        np.testing.assert_array_equal(back.cameras[name].intrinsics.matrix, camera.intrinsics.matrix)
        assert back.cameras[name].intrinsics.distortion == camera.intrinsics.distortion


def test_bbox_2d_is_a_bbox_on_the_only_camera(scene: Scene, tmp_path: Path) -> None:
    camera = "ring_front_center"
    track = copy.copy(scene.layer("ground_truth").tracks[0])
    corners = [100.5, 200.25, 180.0, 260.75]
    track.frame_attributes = {track.first_frame: {"bbox_2d": corners}}
    one_camera = Scene(
        scene.name,
        scene.frames,
        scene.lidar,
        {camera: scene.cameras[camera]},
        {"work": AnnotationLayer("work", [track])},
    )
    (path,) = openlabel.write(one_camera, tmp_path / "one.json")
    frame = json.loads(path.read_text())["openlabel"]["frames"][str(track.first_frame)]
    (bbox,) = frame["objects"]["0"]["object_data"]["bbox"]
    assert bbox["coordinate_system"] == camera
    assert bbox["val"] == [140.25, 230.5, 79.5, 60.5]  # centre x, centre y, width, height
    back = openlabel.read(path).layer("work").tracks[0]
    assert back.frame_attributes[track.first_frame]["bbox_2d"] == corners


def test_camera_only_tracks_round_trip(scene: Scene, tmp_path: Path) -> None:
    camera = "ring_front_left"
    boxes = {
        2: Box2D(10.5, 20.25, 30.0, 40.0, score=0.75),
        3: Box2D(12.0, 21.0, 31.5, 39.0),
        6: Box2D(0.0, 0.0, 5.0, 5.0),
    }
    track_2d = Track2D(
        "ped-7",
        "PEDESTRIAN",
        camera,
        boxes,
        Provenance("candidate", "mot"),
        TrackStatus.CANDIDATE,
        {"crowd": True},
    )
    layer = AnnotationLayer("auto:mot", [scene.layer("ground_truth").tracks[0]], [track_2d])
    two_d = Scene(scene.name, scene.frames, scene.lidar, scene.cameras, {layer.name: layer})
    (path,) = openlabel.write(two_d, tmp_path / "two_d.json")
    document = json.loads(path.read_text())
    assert list(official_validator().iter_errors(document)) == []
    OpenLabelAnnotation.model_validate(document)
    (back,) = openlabel.read(path).layer("auto:mot").tracks_2d
    assert (back.track_id, back.label, back.camera, back.provenance, back.status, back.attributes) == (
        "ped-7", "PEDESTRIAN", camera, Provenance("candidate", "mot"), TrackStatus.CANDIDATE, {"crowd": True}
    )  # fmt: skip
    assert back.boxes.keys() == boxes.keys()
    for frame, box in boxes.items():
        got = back.boxes[frame]
        assert got.score == box.score
        np.testing.assert_allclose(
            [got.left, got.top, got.width, got.height], [box.left, box.top, box.width, box.height], atol=1e-12
        )


def test_frame_keys_with_leading_zeros(scene: Scene, original: Json, tmp_path: Path) -> None:
    document = copy.deepcopy(original)
    document["openlabel"]["frames"] = {f"{int(k):03d}": v for k, v in document["openlabel"]["frames"].items()}
    back = read_back(document, tmp_path)
    assert [f.timestamp_us for f in back.frames] == [f.timestamp_us for f in scene.frames]
    assert [len(t.frames()) for t in back.layer("ground_truth")] == [
        len(t.frames()) for t in scene.layer("ground_truth")
    ]
