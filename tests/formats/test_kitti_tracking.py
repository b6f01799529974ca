"""KITTI tracking import on the real sample (and every shared sequence): frames, sensors, layers,
projection into image_02, ego poses, and the write -> read round trip."""

from __future__ import annotations

import functools
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelpilot.formats import kitti_tracking
from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Cuboid, Pose
from labelpilot.geometry.projection import project_cuboid_bbox
from labelpilot.scenes import Scene
from labelpilot.tracks import Provenance, TrackStatus

SAMPLE_SEQUENCES = ("0000", "0001", "0004")


@pytest.fixture(scope="module")
def root(sample_dir: Path) -> Path:
    return sample_dir / "kitti-tracking"


@functools.cache
def read_cached(root: Path, sequence: str) -> Scene:
    """Scenes are read once per module run; no test changes them."""
    return kitti_tracking.read(root, sequence)


def split_lines(path: Path, sep: str | None = None) -> list[list[str]]:
    return [line.split(sep) for line in path.read_text().splitlines() if line.strip()]


def calib_matrix(path: Path, key: str, shape: tuple[int, int]) -> np.ndarray:
    for parts in split_lines(path):
        if parts[0].rstrip(":") == key:
            return np.array(parts[1:], dtype=float).reshape(shape)
    raise AssertionError(f"{key} not in {path}")


def shared_sequences(shared_data: Path) -> tuple[Path, list[str]]:
    root = shared_data / "kitti-tracking"
    return root, sorted(p.stem for p in (root / "training" / "label_02").glob("*.txt"))


# --- frames, sensors, layers ---------------------------------------------------------------------


def test_frame_count_is_the_longer_of_poses_and_labelled_frames(root: Path) -> None:
    scene = read_cached(root, "0001")
    pose_rows = len(split_lines(root / "poses" / "orbslam3" / "0001.txt"))
    last_label = max(int(p[0]) for p in split_lines(root / "training" / "label_02" / "0001.txt"))
    assert len(scene.frames) == max(pose_rows, last_label + 1) == 447
    assert [f.timestamp_us for f in scene.frames[:3]] == [0, 100_000, 200_000]
    assert scene.frames[0].world_T_ego.allclose(Pose.identity())
    assert any("poses: orbslam3" in note for note in scene.notes)


def test_track_counts_per_class_match_the_label_file(root: Path) -> None:
    for sequence in SAMPLE_SEQUENCES:
        lines = split_lines(root / "training" / "label_02" / f"{sequence}.txt")
        ids_by_class: dict[str, set[str]] = defaultdict(set)
        for parts in lines:
            if parts[2] != "DontCare":
                ids_by_class[parts[2]].add(parts[1])
        layer = read_cached(root, sequence).layer("ground_truth")
        assert Counter(t.label for t in layer.tracks) == {k: len(v) for k, v in ids_by_class.items()}
        dont_care = sum(1 for p in lines if p[2] == "DontCare")
        assert sum(1 for t in layer.tracks_2d if t.label == "DontCare") == dont_care
        assert all(t.status is TrackStatus.CONFIRMED for t in layer.tracks)


def test_a_track_with_a_gap_keeps_its_missing_frames_absent(root: Path) -> None:
    frames_by_id: dict[str, list[int]] = defaultdict(list)
    for parts in split_lines(root / "training" / "label_02" / "0004.txt"):
        if parts[2] != "DontCare":
            frames_by_id[parts[1]].append(int(parts[0]))
    gapped = {i: f for i, f in frames_by_id.items() if max(f) - min(f) + 1 != len(f)}
    assert gapped, "sample 0004 is meant to hold a track with a frame gap"
    layer = read_cached(root, "0004").layer("ground_truth")
    for track_id, frames in gapped.items():
        track = layer.track(track_id)
        assert track.frames() == sorted(frames)
        assert track.absent_frames == set(range(min(frames), max(frames) + 1)) - set(frames)
        assert set(track.frame_attributes) == set(frames)


def test_per_frame_kitti_columns_are_kept(root: Path) -> None:
    layer = read_cached(root, "0001").layer("ground_truth")
    for parts in split_lines(root / "training" / "label_02" / "0001.txt")[:200]:
        if parts[2] == "DontCare":
            continue
        attributes = layer.track(parts[1]).frame_attributes[int(parts[0])]
        assert attributes["truncated"] == float(parts[3])
        assert attributes["occluded"] == int(parts[4])
        assert attributes["alpha"] == float(parts[5])
        assert attributes["bbox_2d"] == [float(v) for v in parts[6:10]]


def test_camera_images_and_calibration(root: Path) -> None:
    scene = read_cached(root, "0001")
    pngs = sorted((root / "training" / "image_02" / "0001").glob("*.png"))
    with_images = {i for i, f in enumerate(scene.frames) if "image_02" in f.images}
    assert with_images == {int(p.stem) for p in pngs}
    for p in pngs:
        ref = scene.frames[int(p.stem)].images["image_02"]
        assert ref.encoding == "png" and Path(ref.url).samefile(p)
    camera = scene.cameras["image_02"]
    with Image.open(pngs[0]) as image:
        assert (camera.intrinsics.width, camera.intrinsics.height) == image.size
    calib = root / "training" / "calib" / "0001.txt"
    p2 = calib_matrix(calib, "P2", (3, 4))
    np.testing.assert_allclose(camera.intrinsics.matrix, p2[:, :3])
    assert scene.lidar is not None and scene.lidar.ego_T_sensor.allclose(Pose.identity())
    # Projecting Velodyne points through the scene's camera equals KITTI's own P2 @ R_rect @ Tr_velo_cam.
    rect = np.eye(4)
    rect[:3, :3] = calib_matrix(calib, "R0_rect", (3, 3))
    tr = np.vstack([calib_matrix(calib, "Tr_velo_to_cam", (3, 4)), [0, 0, 0, 1]])
    points = np.random.default_rng(1).uniform([5, -10, -2], [60, 10, 3], size=(50, 3))
    expected = (p2 @ rect @ tr @ np.c_[points, np.ones(50)].T).T
    in_camera = camera.ego_T_sensor.inverse().apply(points) @ camera.intrinsics.matrix.T
    np.testing.assert_allclose(
        in_camera[:, :2] / in_camera[:, 2:], expected[:, :2] / expected[:, 2:], atol=1e-3
    )


def test_detections_become_single_frame_scored_candidates(root: Path) -> None:
    scene = read_cached(root, "0001")
    layer = scene.layer("auto:pointrcnn")
    rows = [
        p for f in sorted((root / "detections").glob("pointrcnn_*/0001.txt")) for p in split_lines(f, ",")
    ]
    names = {"1": "Pedestrian", "2": "Car", "3": "Cyclist"}
    assert Counter(t.label for t in layer.tracks) == Counter(names[p[1]] for p in rows)
    assert sorted(t.score for t in layer.tracks if t.score is not None) == sorted(float(p[6]) for p in rows)
    for track in layer.tracks[:50]:
        assert track.first_frame == track.last_frame
        assert track.status is TrackStatus.CANDIDATE
        assert track.provenance == Provenance("candidate", "pointrcnn")
        assert len(track.frame_attributes[track.first_frame]["bbox_2d"]) == 4  # type: ignore[arg-type]


def test_tracker_results_become_candidate_tracks_with_mean_scores(root: Path) -> None:
    name = "pointrcnn_Car_hailanyi"
    layer = read_cached(root, "0001").layer(f"auto:{name}")
    scores: dict[str, dict[int, float]] = defaultdict(dict)
    for parts in split_lines(root / "tracker" / name / "0001.txt"):
        scores[parts[1]][int(parts[0])] = float(parts[17])
    assert {t.track_id for t in layer.tracks} == set(scores)
    for track in layer.tracks:
        assert track.status is TrackStatus.CANDIDATE and track.provenance == Provenance("candidate", name)
        assert track.score == pytest.approx(np.mean(list(scores[track.track_id].values())))
        assert {f: a["score"] for f, a in track.frame_attributes.items()} == scores[track.track_id]


def test_sequence_must_be_named_when_several_exist(root: Path, tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="0000, 0001, 0004") as err:
        kitti_tracking.read(root)
    assert err.value.field == "sequence"
    single = tmp_path / "single"
    for sub in ("training/calib", "training/label_02"):
        (single / sub).mkdir(parents=True)
        shutil.copy(root / sub / "0004.txt", single / sub / "0004.txt")
    scene = kitti_tracking.read(single)
    assert scene.name == "0004"
    # No poses folder: the ego stands still, and the notes say so.
    assert all(f.world_T_ego.allclose(Pose.identity()) for f in scene.frames)
    assert "no poses: the ego is taken as still" in scene.notes
    assert kitti_tracking.read(single, "4").name == "0004"


# --- geometry checks -------------------------------------------------------------------------------

# Measured on all 11 shared sequences: cars, vans and cyclists reproduce within 4.0 px; the large
# trucks, trams and misc objects within 5.6 px. A pedestrian's 2D box hugs the person's silhouette,
# narrower than the 3D box around the stride (up to 30 px off sideways) but with the same top and
# bottom (within 1 px), so pedestrians are checked on those edges and on how much of the labelled
# box the projection covers (at least 77 % measured).
PIXEL_TOLERANCE = {"Car": 4.0, "Van": 4.0, "Cyclist": 4.0, "Truck": 6.0, "Tram": 6.0, "Misc": 6.0}
MARGIN_PX = 5.0


def covered_fraction(projected: np.ndarray, labelled: np.ndarray) -> float:
    """How much of the labelled box the projected box covers."""
    inter = np.clip(
        np.minimum(projected[2:], labelled[2:]) - np.maximum(projected[:2], labelled[:2]), 0, None
    )
    return float(inter.prod() / (labelled[2:] - labelled[:2]).prod())


def projection_errors(scene: Scene) -> tuple[dict[str, float], float, int]:
    """Max pixel error per class (pedestrians: top and bottom edges only), the least covered
    pedestrian box, and how many boxes were checked."""
    camera = scene.cameras["image_02"]
    camera_T_ego = camera.ego_T_sensor.inverse()
    size = (camera.intrinsics.width, camera.intrinsics.height)
    worst: dict[str, float] = defaultdict(float)
    min_covered, checked = 1.0, 0
    for track in scene.layer("ground_truth").tracks:
        shapes = scene.ego_shapes(track)
        for i, frame in enumerate(shapes.frames.tolist()):
            attributes = track.frame_attributes[frame]
            labelled = np.array(attributes["bbox_2d"], dtype=float)
            inside = labelled[0] >= MARGIN_PX and labelled[1] >= MARGIN_PX
            inside &= labelled[2] <= size[0] - 1 - MARGIN_PX and labelled[3] <= size[1] - 1 - MARGIN_PX
            if attributes["truncated"] != 0 or not inside:
                continue
            cuboid: Cuboid = shapes.cuboids[i].transformed(camera_T_ego)
            projected = project_cuboid_bbox(cuboid, camera.intrinsics.matrix, image_size=size)
            assert projected is not None
            checked += 1
            error = np.abs(np.array(projected) - labelled)
            if track.label not in PIXEL_TOLERANCE:
                error = error[[1, 3]]
                min_covered = min(min_covered, covered_fraction(np.array(projected), labelled))
            worst[track.label] = max(worst[track.label], float(error.max()))
    return dict(worst), min_covered, checked


def assert_projection_matches(scene: Scene) -> None:
    worst, min_covered, checked = projection_errors(scene)
    assert checked > 0
    for label, error in worst.items():
        assert error <= PIXEL_TOLERANCE.get(label, 4.0), f"{scene.name} {label}: {error:.2f} px"
    assert min_covered >= 0.75, f"{scene.name}: a pedestrian box is only {min_covered:.0%} covered"


def test_cuboids_project_onto_the_labelled_2d_boxes(root: Path) -> None:
    assert_projection_matches(read_cached(root, "0001"))


@pytest.mark.shared_data
def test_cuboids_project_onto_the_labelled_2d_boxes_in_every_shared_sequence(shared_data: Path) -> None:
    root, sequences = shared_sequences(shared_data)
    for sequence in sequences:
        assert_projection_matches(read_cached(root, sequence))


def test_parked_cars_stand_still_in_the_world_frame(root: Path) -> None:
    scene = read_cached(root, "0001")
    camera_poses = [
        Pose.from_kitti_line(" ".join(p)) for p in split_lines(root / "poses" / "orbslam3" / "0001.txt")
    ]

    def extent(centers: np.ndarray) -> float:
        return float(np.linalg.norm(centers - centers[0], axis=1).max())

    world, ego, unconverted = [], [], []
    for track in scene.layer("ground_truth").tracks:
        if track.label not in ("Car", "Van") or len(track.frames()) < 10:
            continue
        shapes = scene.ego_shapes(track)
        world.append(extent(scene.world_shapes(track).cuboids.centers))
        ego.append(extent(shapes.cuboids.centers))
        # Control: the camera poses applied to the Velodyne frame as they are, without moving them.
        wrong = [camera_poses[f].apply(c) for f, c in zip(shapes.frames, shapes.cuboids.centers, strict=True)]
        unconverted.append(extent(np.array(wrong)))
    world_a, ego_a, wrong_a = np.array(world), np.array(ego), np.array(unconverted)
    parked = world_a < 1.5
    # Most cars in this residential drive are parked: with the poses they stay put in the world
    # while the ego drives past them; misreading the poses leaves none of them still.
    assert parked.sum() >= len(world) / 2
    assert np.all(ego_a[parked] > 5.0)
    assert np.median(ego_a[parked]) > 15 * np.median(world_a[parked])
    assert (wrong_a < 1.5).sum() < parked.sum() / 4


# --- round trip ------------------------------------------------------------------------------------


def object_lines(path: Path) -> dict[tuple[int, int], tuple[str, np.ndarray]]:
    """(frame, id) -> (type, h w l x y z rotation_y) for every non-DontCare line."""
    out: dict[tuple[int, int], tuple[str, np.ndarray]] = {}
    for parts in split_lines(path):
        if parts[2] != "DontCare":
            out[(int(parts[0]), int(parts[1]))] = (parts[2], np.array(parts[10:17], dtype=float))
    return out


def assert_round_trip(root: Path, sequence: str, out: Path) -> None:
    scene = read_cached(root, sequence)
    written = kitti_tracking.write(scene, out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        f"poses/labelpilot/{sequence}.txt",
        f"training/calib/{sequence}.txt",
        f"training/label_02/{sequence}.txt",
    ]
    source = root / "training" / "label_02" / f"{sequence}.txt"
    original, again = object_lines(source), object_lines(out / "training" / "label_02" / f"{sequence}.txt")
    assert original.keys() == again.keys()
    for key, (label, values) in original.items():
        label_again, values_again = again[key]
        assert label_again == label
        difference = values_again - values
        difference[6] = (difference[6] + np.pi) % (2 * np.pi) - np.pi  # rotation_y: -pi and pi are one angle
        assert np.abs(difference).max() < 1e-3, (sequence, key, values, values_again)
    dont_care = sorted(line for line in source.read_text().splitlines() if " DontCare " in line)
    written_text = (out / "training" / "label_02" / f"{sequence}.txt").read_text()
    assert sorted(line for line in written_text.splitlines() if " DontCare " in line) == dont_care
    reread = kitti_tracking.read(out, sequence)
    np.testing.assert_allclose(reread.world_T_ego_array(), scene.world_T_ego_array(), atol=1e-6)
    assert reread.layer("ground_truth").counts_by_label() == scene.layer("ground_truth").counts_by_label()


@pytest.mark.parametrize("sequence", SAMPLE_SEQUENCES)
def test_write_then_read_reproduces_every_label_line(root: Path, sequence: str, tmp_path: Path) -> None:
    assert_round_trip(root, sequence, tmp_path / "out")


@pytest.mark.shared_data
def test_round_trip_on_every_shared_sequence(shared_data: Path, tmp_path: Path) -> None:
    root, sequences = shared_sequences(shared_data)
    assert len(sequences) >= 11
    for sequence in sequences:
        assert_round_trip(root, sequence, tmp_path / sequence)
