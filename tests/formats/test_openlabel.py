"""OpenLABEL export and import: round trips on a scene built from a real Argoverse 2 log fragment.

The scene is assembled here straight from the bundled feather files (real ego poses, timestamps,
calibration and cuboid tracks), then given what the importer must keep: stationary tracks,
sparse keyframes, statuses, provenance, scores, attributes and frame attributes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pyarrow.feather as feather
import pytest
from kognic.openlabel.models import OpenLabelAnnotation

from labelpilot.formats import openlabel, read_scene, write_scene
from labelpilot.formats.av2 import LIDAR_RANGE_M
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, CameraIntrinsics, CameraSensor, Frame, LidarSensor, Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Provenance, Stationary, Track, TrackStatus

LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
FIRST, COUNT = 90, 50  # a window of the log's 156 annotated frames that holds its two lidar sweeps
STILL = {"BOLLARD", "CONSTRUCTION_CONE"}


def official_validator() -> jsonschema.Draft7Validator:
    """The schema file shipped in kognic-openlabel, loaded here independently of labelpilot."""
    text = resources.files("kognic.openlabel.schemas").joinpath("openlabel-1-0-0.json").read_text()
    return jsonschema.Draft7Validator(json.loads(text))


def rows(path: Path) -> list[dict[str, Any]]:
    return feather.read_table(path).to_pylist()


def row_pose(row: dict[str, Any]) -> Pose:
    return Pose.from_quat_xyzw(
        [row["qx"], row["qy"], row["qz"], row["qw"]], [row["tx_m"], row["ty_m"], row["tz_m"]]
    )


def build_scene(log: Path, first_frame: int = FIRST, count: int = COUNT) -> Scene:
    """Frames ``first_frame``.. of the log's annotated timestamps, renumbered from 0."""
    annotations = rows(log / "annotations.feather")
    stamps_ns = sorted({r["timestamp_ns"] for r in annotations})[first_frame : first_frame + count]
    index_of = {t: i for i, t in enumerate(stamps_ns)}
    ego_poses = {r["timestamp_ns"]: row_pose(r) for r in rows(log / "city_SE3_egovehicle.feather")}
    sweeps = {int(p.stem): p for p in (log / "sensors" / "lidar").glob("*.feather")}
    frames = [
        Frame(
            i,
            t // 1000,
            ego_poses[t],
            lidar=BlobRef(str(sweeps[t]), "av2-feather") if t in sweeps else None,
        )
        for i, t in enumerate(stamps_ns)
    ]
    extrinsics = {
        r["sensor_name"]: row_pose(r) for r in rows(log / "calibration" / "egovehicle_SE3_sensor.feather")
    }
    cameras = {}
    for r in rows(log / "calibration" / "intrinsics.feather"):
        k = np.array([[r["fx_px"], 0.0, r["cx_px"]], [0.0, r["fy_px"], r["cy_px"]], [0.0, 0.0, 1.0]])
        intrinsics = CameraIntrinsics(k, r["width_px"], r["height_px"], (r["k1"], r["k2"], r["k3"]))
        cameras[r["sensor_name"]] = CameraSensor(r["sensor_name"], extrinsics[r["sensor_name"]], intrinsics)

    by_track: dict[str, list[dict[str, Any]]] = {}
    for r in annotations:
        if r["timestamp_ns"] in index_of:
            by_track.setdefault(r["track_uuid"], []).append(r)
    tracks: list[Track] = []
    for n, (uuid, all_rows) in enumerate(sorted(by_track.items())):
        # every fifth long track loses two boxes, as if occluded: absent frames inside its life
        track_rows = all_rows[:3] + all_rows[5:] if n % 5 == 2 and len(all_rows) > 8 else all_rows
        world = {
            index_of[r["timestamp_ns"]]: frames[index_of[r["timestamp_ns"]]].world_T_ego @ row_pose(r)
            for r in track_rows
        }
        present = sorted(world)
        first = present[0]
        size = [track_rows[0]["length_m"], track_rows[0]["width_m"], track_rows[0]["height_m"]]
        category = track_rows[0]["category"]
        if category in STILL:
            motion: Stationary | Keyframed = Stationary(world[first])
        elif n % 3 == 0:  # sparse keyframes: the file must carry the interpolated shapes in between
            motion = Keyframed({f: world[f] for f in present[::5] + present[-1:]})
        else:
            motion = Keyframed(world)
        frame_attributes: dict[int, dict[str, Any]] = {
            index_of[r["timestamp_ns"]]: {
                "num_interior_pts": int(r["num_interior_pts"]),
                "visible": r["num_interior_pts"] > 0,
            }
            for r in track_rows
        }
        frame_attributes[first]["velocity"] = [1.25, -0.5, 0.0]
        absent = sorted(set(range(first, present[-1] + 1)) - set(present))
        if absent:  # a fact about a frame where the object has no box must survive too
            frame_attributes[absent[0]] = {"reason": "occluded"}
        tracks.append(
            Track(
                track_id=uuid,
                label=category,
                size=np.asarray(size),
                motion=motion,
                first_frame=first,
                last_frame=present[-1],
                attributes={
                    "index": n,
                    "group": "vehicle" if "VEHICLE" in category else "other",
                    "parked": n % 2 == 0,
                    "height_m": size[2],
                },
                provenance=Provenance("candidate", "auto:pointpillars")
                if n % 4 == 1
                else Provenance("imported", "av2"),
                status=[TrackStatus.CONFIRMED, TrackStatus.CANDIDATE, TrackStatus.REJECTED][n % 3],
                score=0.5 + n / 1000 if n % 4 == 1 else None,
                absent_frames=frozenset(range(first, present[-1] + 1)) - frozenset(present),
                frame_attributes=frame_attributes,
            )
        )
    return Scene(
        name=LOG,
        frames=frames,
        lidar=LidarSensor("up_lidar", extrinsics["up_lidar"], LIDAR_RANGE_M),
        cameras=cameras,
        layers={"ground_truth": AnnotationLayer("ground_truth", tracks, description="AV2 sample window")},
        source_format="av2",
    )


@pytest.fixture(scope="module")
def scene(sample_dir: Path) -> Scene:
    return build_scene(sample_dir / "argoverse2" / "logs" / LOG)


@pytest.fixture(scope="module")
def exported(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    (path,) = openlabel.write(scene, tmp_path_factory.mktemp("openlabel"))
    return path


@pytest.fixture(scope="module")
def document(exported: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(exported.read_text())
    return loaded


@pytest.fixture(scope="module")
def back(exported: Path) -> Scene:
    return openlabel.read(exported)


# --- the file itself -------------------------------------------------------------------------------


def test_export_passes_the_official_schema_and_kognics_model(document: dict[str, Any]) -> None:
    errors = list(official_validator().iter_errors(document))
    assert errors == [], errors[0].message if errors else ""
    model = OpenLabelAnnotation.model_validate(document)
    assert model.openlabel.metadata.schema_version.value == "1.0.0"


def test_file_name_and_sections(scene: Scene, exported: Path, document: dict[str, Any]) -> None:
    assert exported.name == f"{scene.name}.json"
    ol = document["openlabel"]
    assert ol["metadata"]["annotator"] == "labelpilot"
    assert set(ol["frames"]) == {str(i) for i in range(len(scene.frames))}
    assert set(ol["streams"]) == {"up_lidar", *scene.cameras}
    assert ol["coordinate_systems"]["ego"]["parent"] == "odom"
    assert {ol["coordinate_systems"][c]["parent"] for c in scene.cameras} == {"ego"}
    assert len(ol["objects"]) == len(scene.layer("ground_truth").tracks)


def test_ego_transform_maps_odom_points_into_ego(scene: Scene, document: dict[str, Any]) -> None:
    """X_dst = M X_src (schema text): with src odom and dst ego, M @ world_T_ego must be the identity."""
    for index in (0, COUNT // 2, COUNT - 1):
        transform = document["openlabel"]["frames"][str(index)]["frame_properties"]["transforms"][
            "odom_to_ego"
        ]
        assert (transform["src"], transform["dst"]) == ("odom", "ego")
        m = np.asarray(transform["transform_src_to_dst"]["matrix4x4"]).reshape(4, 4)
        np.testing.assert_allclose(m @ scene.frames[index].world_T_ego.matrix, np.eye(4), atol=1e-9)


def test_cuboids_are_the_derived_ego_shapes(scene: Scene, document: dict[str, Any]) -> None:
    layer = scene.layer("ground_truth")
    frames = document["openlabel"]["frames"]
    for uid, obj in document["openlabel"]["objects"].items():
        track = layer.track(obj["name"])
        shapes = scene.ego_shapes(track)
        for row, frame in enumerate(shapes.frames.tolist()):
            (cuboid,) = frames[str(frame)]["objects"][uid]["object_data"]["cuboid"]
            assert cuboid["coordinate_system"] == "ego" and cuboid["name"] == "shape3D"
            val = np.asarray(cuboid["val"])
            np.testing.assert_allclose(val[:3], shapes.cuboids.centers[row], atol=1e-9)
            np.testing.assert_allclose(val[7:], track.size, atol=1e-12)
            assert abs(abs(float(val[3:7] @ shapes.cuboids.quats_xyzw[row])) - 1.0) < 1e-9


def test_timestamps_are_exact_decimal_seconds(scene: Scene, document: dict[str, Any]) -> None:
    for frame in scene.frames:
        text = document["openlabel"]["frames"][str(frame.index)]["frame_properties"]["timestamp"]
        whole, fraction = text.split(".")
        assert int(whole) * 1_000_000 + int(fraction) == frame.timestamp_us


# --- the round trip ---------------------------------------------------------------------------------


def test_round_trip_frames_timestamps_and_ego_poses(scene: Scene, back: Scene) -> None:
    assert back.name == scene.name and back.source_format == "openlabel"
    assert back.notes == []
    assert [f.timestamp_us for f in back.frames] == [f.timestamp_us for f in scene.frames]
    for a, b in zip(scene.frames, back.frames, strict=True):
        assert b.world_T_ego.allclose(a.world_T_ego, atol=1e-9)
        assert (b.lidar, b.images) == (a.lidar, a.images)
    assert sum(f.lidar is not None for f in back.frames) == 2


def test_round_trip_sensors(scene: Scene, back: Scene) -> None:
    assert back.lidar is not None and scene.lidar is not None
    assert back.lidar.name == scene.lidar.name
    assert back.lidar.range_m == scene.lidar.range_m == LIDAR_RANGE_M
    assert back.lidar.ego_T_sensor.allclose(scene.lidar.ego_T_sensor, atol=1e-9)
    assert set(back.cameras) == set(scene.cameras)
    for name, camera in scene.cameras.items():
        got = back.cameras[name]
        assert got.ego_T_sensor.allclose(camera.ego_T_sensor, atol=1e-9)
        np.testing.assert_array_equal(got.intrinsics.matrix, camera.intrinsics.matrix)
        assert (got.intrinsics.width, got.intrinsics.height) == (
            camera.intrinsics.width,
            camera.intrinsics.height,
        )
        assert got.intrinsics.distortion == camera.intrinsics.distortion


def test_round_trip_tracks(scene: Scene, back: Scene) -> None:
    original = scene.layer("ground_truth")
    restored = back.layer("ground_truth")
    assert restored.description == original.description
    assert [t.track_id for t in restored] == [t.track_id for t in original]
    assert any(t.is_stationary for t in original) and not all(t.is_stationary for t in original)
    for a, b in zip(original, restored, strict=True):
        assert (b.label, b.first_frame, b.last_frame, b.absent_frames) == (
            a.label,
            a.first_frame,
            a.last_frame,
            a.absent_frames,
        )
        assert (b.status, b.provenance, b.score, b.is_stationary) == (
            a.status,
            a.provenance,
            a.score,
            a.is_stationary,
        )
        np.testing.assert_allclose(b.size, a.size, atol=1e-12)
        assert b.attributes == a.attributes
        assert {k: {n: type(v) for n, v in d.items()} for k, d in b.frame_attributes.items()} == {
            k: {n: type(v) for n, v in d.items()} for k, d in a.frame_attributes.items()
        }
        assert b.frame_attributes == a.frame_attributes


def test_round_trip_derived_ego_shapes(scene: Scene, back: Scene) -> None:
    restored = back.layer("ground_truth")
    compared = 0
    for track in scene.layer("ground_truth"):
        a, b = scene.ego_shapes(track), back.ego_shapes(restored.track(track.track_id))
        assert a.frames.tolist() == b.frames.tolist()
        np.testing.assert_allclose(b.cuboids.centers, a.cuboids.centers, atol=1e-6)
        np.testing.assert_allclose(b.cuboids.sizes, a.cuboids.sizes, atol=1e-6)
        np.testing.assert_allclose(b.cuboids.rotation_matrices(), a.cuboids.rotation_matrices(), atol=1e-6)
        compared += len(a)
    assert compared == sum(len(t.frames()) for t in scene.layer("ground_truth"))


# --- layers and all-or-nothing writing ---------------------------------------------------------------


def small_scene(scene: Scene, layers: list[str]) -> Scene:
    tracks = scene.layer("ground_truth").tracks[:3]
    return Scene(
        scene.name,
        scene.frames,
        scene.lidar,
        scene.cameras,
        {n: AnnotationLayer(n, list(tracks)) for n in layers},
    )


@pytest.mark.parametrize(
    ("layers", "chosen"),
    [(["auto:x", "work"], "work"), (["work", "ground_truth"], "ground_truth"), (["auto:x"], "auto:x")],
)
def test_default_layer(scene: Scene, tmp_path: Path, layers: list[str], chosen: str) -> None:
    (path,) = openlabel.write(small_scene(scene, layers), tmp_path / "out.json")
    assert openlabel.read(path).layers.keys() == {chosen}


def test_ambiguous_or_unknown_layer_is_refused(scene: Scene, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="name the one"):
        openlabel.write(small_scene(scene, ["auto:a", "auto:b"]), tmp_path / "out.json")
    with pytest.raises(ValueError, match="no layer 'nope'"):
        openlabel.write(small_scene(scene, ["work"]), tmp_path / "out.json", layer="nope")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_the_previous_file_untouched(scene: Scene, tmp_path: Path) -> None:
    good = small_scene(scene, ["work"])
    (path,) = openlabel.write(good, tmp_path / "out.json")
    before = path.read_bytes()
    bad = small_scene(scene, ["work"])
    broken = bad.layer("work").tracks[1]
    bad.layer("work").tracks[1] = Track(
        broken.track_id, broken.label, broken.size, broken.motion, broken.first_frame, broken.last_frame,
        frame_attributes={broken.first_frame: {"score": float("nan")}},
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"(?i)nan"):
        openlabel.write(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_registry_round_trip_and_directory_reading(scene: Scene, tmp_path: Path) -> None:
    (path,) = write_scene("openlabel", small_scene(scene, ["work"]), tmp_path / "named.json")
    assert path == tmp_path / "named.json"
    assert [f.timestamp_us for f in read_scene("openlabel", tmp_path).frames] == [
        f.timestamp_us for f in scene.frames
    ]
    assert len(read_scene("openlabel", tmp_path, "named").frames) == len(scene.frames)


def test_scene_without_frames_is_refused(scene: Scene, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        openlabel.write(Scene(scene.name, []), tmp_path / "empty.json")
    assert list(tmp_path.iterdir()) == []
