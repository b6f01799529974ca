"""Ego pose correction from stationary landmarks: synthetic drift recovered, real KITTI landmarks agree better.

Synthetic cases take the bundled KITTI sample 0001's trajectory (447 frames, ~150 m) as the truth,
distort it with a known scale, yaw drift and translation drift, and observe landmarks from the true
poses with 5 cm noise. The real case builds candidates from the sample's PointRCNN detections; ground
truth only measures there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.pose_correction import PoseCorrectionSettings, correct_poses
from labelpilot.automation.pose_landmarks import (
    Landmark,
    landmarks_from_candidates,
    to_ego_points,
    to_world_points,
)
from labelpilot.automation.pose_model import CorrectionModel, ModelShape
from labelpilot.automation.pose_rebase import corrected_scene, corrected_T_raw, rebase_layer
from labelpilot.effort.ground_truth import GroundTruth, GroundTruthObject, pass_threshold
from labelpilot.geometry import CuboidBatch, Pose, iou_3d_pairs
from labelpilot.scenes import Scene, frames_from_poses
from labelpilot.tracks import AnnotationLayer, Stationary, Track
from tests.automation.scene_cache import kitti_scene

NOISE_M = 0.05
SCALE = 1.03
YAW_DRIFT_RAD = 0.02
DRIFT_M = (0.8, -0.6, 0.3)


@pytest.fixture(scope="module")
def truth(sample_dir: Path) -> Scene:
    return kitti_scene(sample_dir / "kitti-tracking", "0001")


def _scene(name: str, matrices: np.ndarray) -> Scene:
    return Scene(name, frames_from_poses([Pose(m) for m in matrices]))


def distorted(truth: Scene, shape: ModelShape, params: list[float]) -> Scene:
    """The true trajectory corrupted by the model with ``params`` (over the whole scene)."""
    raw = truth.world_T_ego_array()
    times = np.arange(len(raw), dtype=np.float64) * 0.1
    model = CorrectionModel.of(raw, times, (0.0, float(times[-1])), shape)
    rotations, translations = model.corrected(np.asarray(params, dtype=np.float64))
    out = np.repeat(np.eye(4)[None], len(raw), axis=0)
    out[:, :3, :3], out[:, :3, 3] = rotations, translations
    return _scene("distorted", out)


def synthetic_landmarks(truth: Scene, rng: np.random.Generator, every: int = 15) -> list[Landmark]:
    """Parked objects beside the true path, observed within 35 m with NOISE_M noise per axis."""
    poses = truth.world_T_ego_array()
    out = []
    for k, frame in enumerate(range(0, len(poses), every)):
        side = 1.0 if k % 2 else -1.0
        world = Pose(poses[frame]).apply(np.array([12.0, side * 7.0, -1.0]))
        distance = np.linalg.norm(poses[:, :2, 3] - world[:2], axis=1)
        frames = np.flatnonzero(distance <= 35.0).astype(np.int64)
        ego = to_ego_points(poses, frames, np.repeat(world[None], len(frames), 0))
        out.append(Landmark(f"lm-{k}", "Car", frames, ego + rng.normal(0.0, NOISE_M, ego.shape)))
    return out


def max_position_error(poses: list[Pose], truth: Scene) -> float:
    estimated = np.stack([p.translation for p in poses])
    return float(np.linalg.norm(estimated - truth.world_T_ego_array()[:, :3, 3], axis=1).max())


def test_recovers_scale_yaw_and_drift(truth: Scene) -> None:
    shape = ModelShape(0, 1, 1)
    scene = distorted(truth, shape, [np.log(SCALE), YAW_DRIFT_RAD, *DRIFT_M])
    landmarks = synthetic_landmarks(truth, np.random.default_rng(1))
    result = correct_poses(scene, landmarks, PoseCorrectionSettings(shape=ModelShape(1, 1, 1)))
    assert result.applied, result.reason
    params = result.parameters
    assert params is not None and params.shape == ModelShape(1, 1, 1)  # the drift terms were needed
    raw_error = max_position_error([f.world_T_ego for f in scene.frames], truth)
    assert raw_error > 4.0
    assert max_position_error(result.poses, truth) < 0.15
    assert params.mean_scale == pytest.approx(1.0 / SCALE, abs=0.004)
    assert params.yaw_drift_deg == pytest.approx(-np.degrees(YAW_DRIFT_RAD), abs=0.15)
    assert result.disagreement_after_m < 0.1 < 0.4 < result.disagreement_before_m  # 0.087: the noise
    assert all(f.inlier for f in result.landmarks) and not result.disagreeing


def test_pure_scale_keeps_the_global_scale_model(truth: Scene) -> None:
    scene = distorted(truth, ModelShape(0, 0, 0), [np.log(SCALE)])
    result = correct_poses(scene, synthetic_landmarks(truth, np.random.default_rng(2)))
    assert result.applied and result.parameters is not None
    assert result.parameters.shape == ModelShape(0, 0, 0)
    assert result.parameters.mean_scale == pytest.approx(1.0 / SCALE, abs=0.002)
    assert max_position_error(result.poses, truth) < 0.1
    assert result.poses[0].allclose(scene.frames[0].world_T_ego)  # the world frame stays put


def test_a_moving_object_called_stationary_does_not_spoil_it(truth: Scene) -> None:
    scene = distorted(truth, ModelShape(0, 0, 0), [np.log(SCALE)])
    rng = np.random.default_rng(3)
    landmarks = synthetic_landmarks(truth, rng)
    # A car creeping at 0.8 m/s along the road beside the ego for 20 s: a scale-like slide.
    poses = truth.world_T_ego_array()
    frames = np.arange(150, 350, dtype=np.int64)
    heading = poses[350, :2, 3] - poses[150, :2, 3]
    start = Pose(poses[150]).apply(np.array([15.0, 4.0, -1.0]))
    world = start + np.column_stack(
        [np.outer((frames - 150) * 0.08, heading / np.linalg.norm(heading)), np.zeros(200)]
    )
    mover = Landmark(
        "mover", "Car", frames, to_ego_points(poses, frames, world) + rng.normal(0, NOISE_M, (200, 3))
    )
    result = correct_poses(scene, [*landmarks, mover])
    assert result.applied and result.parameters is not None
    fit = {f.track_id: f for f in result.landmarks}
    assert not fit["mover"].inlier and "mover" in result.disagreeing
    assert sum(f.inlier for f in result.landmarks) == len(landmarks)
    assert result.parameters.mean_scale == pytest.approx(1.0 / SCALE, abs=0.002)
    assert max_position_error(result.poses, truth) < 0.1
    # The control: plain least squares without the robust loss and the re-weighting is spoiled.
    plain = PoseCorrectionSettings(outlier_sigma=np.inf, soft_l1_scale=1e9)
    assert max_position_error(correct_poses(scene, [*landmarks, mover], plain).poses, truth) > 1.0


def test_too_few_landmarks_or_no_travel_means_no_correction(truth: Scene) -> None:
    scene = distorted(truth, ModelShape(0, 0, 0), [np.log(SCALE)])
    landmarks = synthetic_landmarks(truth, np.random.default_rng(4))
    few = correct_poses(scene, landmarks[:2])
    assert not few.applied and few.parameters is None
    assert "needs 3" in few.reason
    assert all(p.allclose(f.world_T_ego) for p, f in zip(few.poses, scene.frames, strict=True))
    still = _scene("still", np.repeat(np.eye(4)[None], len(scene.frames), axis=0))
    parked = [Landmark(lm.track_id, lm.label, lm.frames, lm.ego_points) for lm in landmarks[:5]]
    standing = correct_poses(still, parked)
    assert not standing.applied and "travelled 0.0 m" in standing.reason


def test_real_kitti_landmarks_agree_better_and_ground_truth_confirms(truth: Scene) -> None:
    candidates = build_candidates(truth, truth.layer("auto:pointrcnn"))
    landmarks = landmarks_from_candidates(truth, candidates)
    assert len(landmarks) >= 30
    result = correct_poses(truth, landmarks)
    assert result.applied and result.parameters is not None, result.reason
    assert 0.94 < result.parameters.mean_scale < 0.99  # ORB-SLAM3's translations are ~3 % too long
    assert result.disagreement_after_m < 0.8 * result.disagreement_before_m
    notice = result.notice()
    assert notice is not None and "corrected poses" in notice
    # Ground truth only measures: its stationary objects' labelled centres spread less in the world.
    raw, corrected = truth.world_T_ego_array(), np.stack([p.matrix for p in result.poses])
    spreads = []
    for obj in GroundTruth(truth.layer("ground_truth").tracks).objects.values():
        if not obj.stationary or len(obj.frames) < 10:
            continue
        ego = to_ego_points(raw, obj.frames, obj.shapes.centers)
        spreads.append(
            [
                float(np.std(to_world_points(poses, obj.frames, ego), axis=0).sum())
                for poses in (raw, corrected)
            ]
        )
    before, after = np.array(spreads).T
    assert len(spreads) >= 20
    assert after.mean() < 0.7 * before.mean()
    assert np.mean(after < before) > 0.8


def _stationary_work_layer(scene: Scene) -> tuple[AnnotationLayer, dict[str, GroundTruthObject]]:
    """One world box per stationary ground-truth object: its middle labelled frame's box, as a person would
    set it once in that frame (through that frame's pose)."""
    objects = {
        o.object_id: o
        for o in GroundTruth(scene.layer("ground_truth").tracks).objects.values()
        if o.stationary and len(o.frames) >= 10
    }
    tracks = []
    for o in objects.values():
        box = o.shapes[len(o.frames) // 2]
        tracks.append(
            Track(o.object_id, o.label, box.size, Stationary(box.pose), int(o.frames[0]), int(o.frames[-1]))
        )
    return AnnotationLayer("work", tracks), objects


def _passing(scene: Scene, truth_scene: Scene, objects: dict[str, GroundTruthObject]) -> float:
    passed = total = 0
    for track in scene.layer("work").tracks:
        truth = truth_scene.ego_shapes(truth_scene.layer("ground_truth").track(track.track_id))
        derived = scene.ego_shapes(track)
        keep = np.isin(derived.frames, truth.frames)
        ious = iou_3d_pairs(
            CuboidBatch(
                derived.cuboids.centers[keep], derived.cuboids.sizes[keep], derived.cuboids.quats_xyzw[keep]
            ),
            truth.cuboids,
        )
        passed += int(np.sum(ious >= pass_threshold(track.label)))
        total += len(truth.frames)
    return passed / total


def test_corrected_scene_keeps_the_sensor_view_and_stationary_boxes_pass_more(truth: Scene) -> None:
    scene = Scene(truth.name, truth.frames, truth.lidar, truth.cameras, dict(truth.layers))
    work, objects = _stationary_work_layer(scene)
    scene.add_layer(work)
    candidates = build_candidates(scene, scene.layer("auto:pointrcnn"))
    correction = correct_poses(scene, landmarks_from_candidates(scene, candidates))
    moved = corrected_scene(scene, correction)
    assert moved.frames[10].world_T_ego.allclose(correction.poses[10])
    assert scene.frames[10].world_T_ego is truth.frames[10].world_T_ego  # the input is unchanged
    # Keyframed tracks (the ground truth, the detections) keep exactly what the sensor saw.
    for track in scene.layer("ground_truth").tracks[:20]:
        before, after = (
            scene.ego_shapes(track),
            moved.ego_shapes(moved.layer("ground_truth").track(track.track_id)),
        )
        assert np.allclose(before.cuboids.centers, after.cuboids.centers, atol=1e-6)
    # So do the raw detections a candidate keeps (what a stationary verdict is computed from).
    moves = corrected_T_raw([f.world_T_ego for f in scene.frames], correction.poses)
    for track, rebased in zip(candidates.tracks[:20], rebase_layer(candidates, moves).tracks, strict=False):
        frames = np.array(sorted(track.frame_attributes), dtype=np.int64)
        raw_world = np.array([track.frame_attributes[int(f)]["det_center"] for f in frames], dtype=np.float64)
        new_world = np.array(
            [rebased.frame_attributes[int(f)]["det_center"] for f in frames], dtype=np.float64
        )
        raw_ego = to_ego_points(scene.world_T_ego_array(), frames, raw_world)
        assert np.allclose(to_ego_points(moved.world_T_ego_array(), frames, new_world), raw_ego, atol=1e-6)
    # One world box per parked object, derived through the corrected poses, fits far more of its frames.
    raw_share, corrected_share = _passing(scene, truth, objects), _passing(moved, truth, objects)
    assert raw_share < 0.85 and corrected_share > 0.93 and corrected_share > raw_share + 0.15
