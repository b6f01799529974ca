"""Candidate tracks: structure, provenance, independence from ground truth, and the building blocks."""

from __future__ import annotations

import functools
import statistics
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.association import AssociationParams
from labelpilot.automation.candidates import build_candidates, consistent_yaws
from labelpilot.automation.detections import layer_detections, observed_frames
from labelpilot.automation.duplicates import duplicate_mask
from labelpilot.automation.kalman import FilterBank, MotionNoise, predict, smooth, update
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import normalize_yaw, yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Provenance, TrackStatus, world_shapes

AV2_TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
AV2_SWEEP_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


@functools.cache
def _kitti(root: Path, sequence: str) -> Scene:
    return read_scene("kitti-tracking", root, sequence)


@functools.cache
def _av2(log: Path) -> Scene:
    return read_scene("av2", log)


@pytest.fixture(scope="module")
def kitti_0001(sample_dir: Path) -> Scene:
    return _kitti(sample_dir / "kitti-tracking", "0001")


@pytest.fixture(scope="module")
def av2_tracker(sample_dir: Path) -> Scene:
    return _av2(sample_dir / "argoverse2" / "logs" / AV2_TRACKER_LOG)


@functools.cache
def _candidates_0001(root: Path) -> AnnotationLayer:
    scene = _kitti(root, "0001")
    return build_candidates(scene, scene.layer("auto:pointrcnn"))


@pytest.fixture(scope="module")
def candidates_0001(sample_dir: Path) -> AnnotationLayer:
    return _candidates_0001(sample_dir / "kitti-tracking")


def _signature(layer: AnnotationLayer) -> list[tuple[object, ...]]:
    """Everything a candidate layer says, in comparable form."""
    out: list[tuple[object, ...]] = []
    for t in layer:
        assert isinstance(t.motion, Keyframed)
        poses = tuple((f, p.matrix.tobytes()) for f, p in t.motion.keyframes.items())
        out.append(
            (
                t.track_id,
                t.label,
                t.score,
                t.size.tobytes(),
                poses,
                repr(t.attributes),
                repr(t.frame_attributes),
            )
        )
    return out


# --- the candidate layer --------------------------------------------------------------------


def test_candidate_layer_structure(kitti_0001: Scene, candidates_0001: AnnotationLayer) -> None:
    source = kitti_0001.layer("auto:pointrcnn")
    assert candidates_0001.name == "candidates:auto:pointrcnn"
    assert 0 < len(candidates_0001) < len(source)
    ids = [t.track_id for t in candidates_0001]
    assert len(set(ids)) == len(ids)
    firsts = [t.first_frame for t in candidates_0001]
    assert firsts == sorted(firsts)
    detections_used: Counter[str] = Counter()
    for track in candidates_0001:
        assert track.status is TrackStatus.CANDIDATE
        assert track.provenance == Provenance("candidate", "auto:pointrcnn")
        assert isinstance(track.motion, Keyframed)
        assert track.absent_frames == frozenset()  # interpolation spans the missed frames
        assert track.motion.frames == sorted(track.frame_attributes)
        hits = int(track.attributes["detections"])
        assert hits == len(track.motion.keyframes) >= AssociationParams().min_hits
        assert track.score is not None and 0.0 <= track.score <= 1.0
        assert 0.0 < float(track.attributes["hit_ratio"]) <= 1.0
        sizes = np.array([track.frame_attributes[f]["det_size"] for f in track.motion.frames])
        np.testing.assert_allclose(track.size, np.median(sizes, axis=0))
        labels = Counter(
            source.track(str(track.frame_attributes[f]["det_source"])).label for f in track.motion.frames
        )
        assert labels[track.label] == max(labels.values())
        detections_used.update(str(track.frame_attributes[f]["det_source"]) for f in track.motion.frames)
    assert max(detections_used.values()) == 1  # a detection belongs to at most one candidate


def test_frame_attributes_are_the_source_detections(
    kitti_0001: Scene, candidates_0001: AnnotationLayer
) -> None:
    source = kitti_0001.layer("auto:pointrcnn")
    for track in candidates_0001.tracks[:40]:
        for frame, attributes in track.frame_attributes.items():
            detection = source.track(str(attributes["det_source"]))
            assert detection.first_frame == frame
            shape = world_shapes(detection, [frame]).cuboids[0]
            np.testing.assert_allclose(attributes["det_center"], shape.center, atol=1e-9)
            assert abs(float(yaw_difference(float(attributes["det_yaw"]), shape.yaw))) < 1e-9
            assert attributes["det_score"] == detection.score
        # Smoothed keyframes stay near the detections, and the heading agrees up to a flip undone.
        assert isinstance(track.motion, Keyframed)
        for frame, pose in track.motion.keyframes.items():
            raw = track.frame_attributes[frame]
            assert np.linalg.norm(pose.translation[:2] - np.asarray(raw["det_center"])[:2]) < 2.0
            turn = abs(float(yaw_difference(pose.yaw, float(raw["det_yaw"]))))
            assert min(turn, np.pi - turn) < 1e-6


def test_ground_truth_is_never_read(sample_dir: Path, candidates_0001: AnnotationLayer) -> None:
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    del scene.layers["ground_truth"]
    without = build_candidates(scene, scene.layer("auto:pointrcnn"))
    assert _signature(without) == _signature(candidates_0001)
    # A ground truth that says something else entirely changes nothing either.
    scene.add_layer(AnnotationLayer("ground_truth", list(scene.layer("auto:pointrcnn_Car_hailanyi").tracks)))
    assert _signature(build_candidates(scene, scene.layer("auto:pointrcnn"))) == _signature(candidates_0001)


def test_raw_keyframes_when_not_smoothing(kitti_0001: Scene) -> None:
    layer = build_candidates(
        kitti_0001, kitti_0001.layer("auto:pointrcnn"), params=AssociationParams(smooth=False)
    )
    for track in layer.tracks[:30]:
        assert isinstance(track.motion, Keyframed)
        for frame, pose in track.motion.keyframes.items():
            np.testing.assert_allclose(
                pose.translation, track.frame_attributes[frame]["det_center"], atol=1e-9
            )


def test_min_hits_and_birth_threshold_filter(kitti_0001: Scene) -> None:
    layer = kitti_0001.layer("auto:pointrcnn")
    strict = build_candidates(kitti_0001, layer, params=AssociationParams(min_hits=10, birth_confidence=0.99))
    loose = build_candidates(kitti_0001, layer, params=AssociationParams(min_hits=1, birth_confidence=0.0))
    assert all(int(t.attributes["detections"]) >= 10 for t in strict)
    assert len(strict) < len(loose)
    # With every detection allowed to start a track, each usable detection ends up in exactly one candidate.
    dets = layer_detections(kitti_0001, layer, AssociationParams())
    usable = ~duplicate_mask(dets, np.ones(len(dets), dtype=bool))
    assert sum(int(t.attributes["detections"]) for t in loose) == int(usable.sum())


# --- AV2: a 2 Hz tracker on a 10 Hz scene ----------------------------------------------------


def test_av2_tracker_detections_are_its_keyframes(av2_tracker: Scene) -> None:
    layer = av2_tracker.layer("auto:tracker")
    dets = layer_detections(av2_tracker, layer, AssociationParams())
    expected = sum(len(t.motion.keyframes) for t in layer if isinstance(t.motion, Keyframed))
    assert len(dets) == expected
    grid = sorted({f for t in layer if isinstance(t.motion, Keyframed) for f in t.motion.keyframes})
    assert set(np.unique(dets.frames).tolist()) == set(grid)
    assert set(np.diff(grid).tolist()) == {5}  # 2 Hz on 10 Hz frames
    # The flattened boxes are what world_shapes derives at those frames.
    for track in layer.tracks[:50]:
        rows = [i for i, s in enumerate(dets.source_ids) if s == track.track_id]
        shapes = world_shapes(track, observed_frames(track))
        np.testing.assert_allclose(dets.centers[rows], shapes.cuboids.centers, atol=1e-9)
        np.testing.assert_allclose(yaw_difference(dets.yaws[rows], shapes.cuboids.yaws), 0.0, atol=1e-9)


def test_av2_candidates_span_the_2hz_gaps(av2_tracker: Scene) -> None:
    candidates = build_candidates(av2_tracker, av2_tracker.layer("auto:tracker"))
    assert len(candidates) > 10
    for track in candidates:
        assert track.label == "unknown"  # the tracker gives no classes
        assert isinstance(track.motion, Keyframed)
        assert all(f % 5 == 0 for f in track.motion.keyframes)
        assert len(track.frames()) == track.last_frame - track.first_frame + 1
        assert "point_support" not in track.attributes  # no sweeps were given


def test_duplicates_of_the_av2_tracker_are_suppressed(av2_tracker: Scene, kitti_0001: Scene) -> None:
    dets = layer_detections(av2_tracker, av2_tracker.layer("auto:tracker"), AssociationParams())
    suppressed = duplicate_mask(dets, np.ones(len(dets), dtype=bool))
    assert 0.2 < suppressed.mean() < 0.8  # per-class hypotheses of one object
    kept = np.flatnonzero(~suppressed)
    # No kept detection has its centre inside another kept one's footprint in the same frame.
    for frame in np.unique(dets.frames[kept])[:5].tolist():
        rows = kept[dets.frames[kept] == frame]
        offsets = dets.centers[rows, None, :2] - dets.centers[None, rows, :2]  # [j, i] = c_j - c_i
        cos, sin = np.cos(dets.yaws[rows]), np.sin(dets.yaws[rows])
        along = np.abs(offsets[..., 0] * cos + offsets[..., 1] * sin) <= dets.sizes[rows, 0] / 2
        across = np.abs(-offsets[..., 0] * sin + offsets[..., 1] * cos) <= dets.sizes[rows, 1] / 2
        inside = along & across
        np.fill_diagonal(inside, False)
        assert not inside.any()
    kitti = layer_detections(kitti_0001, kitti_0001.layer("auto:pointrcnn"), AssociationParams())
    assert duplicate_mask(kitti, np.ones(len(kitti), dtype=bool)).mean() < 0.02


def test_point_support_counts_lidar_points(sample_dir: Path) -> None:
    """Fed the ground-truth boxes as detections, a candidate's point support is the mean of the
    points counted by the annotators (``num_interior_pts``) at the frames with a sweep."""
    scene = read_scene("av2", sample_dir / "argoverse2" / "logs" / AV2_SWEEP_LOG)
    swept = [f.index for f in scene.frames if f.lidar is not None]
    assert swept
    boxes = AnnotationLayer("auto:boxes", list(scene.layer("ground_truth").tracks))
    params = AssociationParams(smooth=False, min_hits=1)
    candidates = build_candidates(scene, boxes, sweeps=SceneSweeps(scene), params=params)
    source = {t.track_id: t for t in boxes}
    compared = 0
    for track in candidates:
        frames = [f for f in swept if f in track.frame_attributes]
        if not frames:
            assert "point_support" not in track.attributes
            continue
        origins = {str(track.frame_attributes[f]["det_source"]) for f in track.frame_attributes}
        if len(origins) != 1:
            continue  # association merged two annotations: the counts are not one box's
        annotated = source[origins.pop()]
        expected = statistics.mean(float(annotated.frame_attributes[f]["num_interior_pts"]) for f in frames)
        assert float(track.attributes["point_support"]) == pytest.approx(
            expected, abs=max(2.0, 0.02 * expected)
        )
        compared += 1
    assert compared >= 50


# --- building blocks -------------------------------------------------------------------------


def test_one_long_prediction_equals_many_short_ones() -> None:
    noise = MotionNoise()
    bank = FilterBank.born(np.array([[1.0, 2.0, 0.5], [-3.0, 4.0, 1.0]]), noise)
    bank.mean[:, :2, 1] = [[5.0, -1.0], [0.0, 2.0]]
    once = predict(bank, np.array([0.5, 0.5]), noise)
    steps = bank
    for _ in range(5):
        steps = predict(steps, np.array([0.1, 0.1]), noise)
    np.testing.assert_allclose(once.mean, steps.mean, atol=1e-12)
    np.testing.assert_allclose(once.cov_xy, steps.cov_xy, atol=1e-12)
    np.testing.assert_allclose(once.cov_z, steps.cov_z, atol=1e-12)


def test_filter_learns_velocity_and_smoother_beats_raw_centres() -> None:
    rng = np.random.default_rng(3)
    noise = MotionNoise()
    times = np.arange(60) * 0.1
    truth = np.column_stack([8.0 * times, 2.0 + 0.5 * times, np.full(60, 0.8)])
    measured = truth + rng.normal(0.0, 0.3, truth.shape) * [1.0, 1.0, 0.3]
    bank = FilterBank.born(measured[:1], noise)
    means, xy, z = [bank.mean[0]], [bank.cov_xy[0]], [bank.cov_z[0]]
    for k in range(1, 60):
        bank = update(predict(bank, np.array([0.1]), noise), measured[k : k + 1], noise)
        means.append(bank.mean[0])
        xy.append(bank.cov_xy[0])
        z.append(bank.cov_z[0])
    np.testing.assert_allclose(bank.mean[0, :2, 1], [8.0, 0.5], atol=1.0)
    smoothed = smooth(FilterBank(np.stack(means), np.stack(xy), np.stack(z)), times, noise)
    raw_error = np.linalg.norm(measured[:, :2] - truth[:, :2], axis=1).mean()
    smooth_error = np.linalg.norm(smoothed[:, :2, 0] - truth[:, :2], axis=1).mean()
    assert smooth_error < 0.6 * raw_error


def test_consistent_yaws_undo_flips_and_follow_motion() -> None:
    heading = 0.3
    raw = np.full(10, heading)
    raw[[3, 7]] += np.pi  # two detector flips
    moving = np.tile([np.cos(heading), np.sin(heading)], (10, 1)) * 5.0
    np.testing.assert_allclose(
        yaw_difference(consistent_yaws(normalize_yaw(raw), moving), heading), 0.0, atol=1e-12
    )
    # Driving backwards relative to every detection: the motion decides the heading.
    all_flipped = normalize_yaw(np.full(10, heading + np.pi))
    np.testing.assert_allclose(yaw_difference(consistent_yaws(all_flipped, moving), heading), 0.0, atol=1e-12)
    # Parked: the majority of the detections decides.
    parked = np.zeros((10, 2))
    np.testing.assert_allclose(
        yaw_difference(consistent_yaws(normalize_yaw(raw), parked), heading), 0.0, atol=1e-12
    )


def test_bad_params_are_refused() -> None:
    with pytest.raises(ValueError, match="min_hits"):
        AssociationParams(min_hits=0)
    with pytest.raises(ValueError, match="gates"):
        AssociationParams(gate_chi2=0.0)


def test_empty_layer_gives_empty_candidates(kitti_0001: Scene) -> None:
    layer = build_candidates(kitti_0001, AnnotationLayer("auto:nothing"))
    assert layer.name == "candidates:auto:nothing"
    assert len(layer) == 0
