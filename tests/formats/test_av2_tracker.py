"""Argoverse 2 tracker predictions as candidate tracks, checked against tracker_predictions.feather."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.feather as feather
import pytest
from scipy.spatial import cKDTree

from labelpilot.formats import av2
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, TrackStatus

TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
LOG = Path(__file__).resolve().parents[2] / "data" / "sample" / "argoverse2" / "logs" / TRACKER_LOG


def columns(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    table = feather.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def frame_stamps_ns() -> np.ndarray[Any, Any]:
    return np.unique(columns(LOG / "annotations_with_ego.feather")["timestamp_ns"])


@pytest.fixture(scope="module")
def scene() -> Scene:
    return av2.read(LOG)


def tracker_rows() -> dict[str, np.ndarray[Any, Any]]:
    return columns(LOG / "tracker_predictions.feather")


def test_one_candidate_per_tracker_id(scene: Scene) -> None:
    rows = tracker_rows()
    layer = scene.layer("auto:tracker")
    assert sorted(t.track_id for t in layer) == sorted(str(i) for i in np.unique(rows["track_id"]))
    assert all(t.status is TrackStatus.CANDIDATE for t in layer)
    assert {(t.provenance.kind, t.provenance.source) for t in layer} == {("candidate", "tracker")}
    assert layer.counts_by_label() == {"unknown": len(np.unique(rows["track_id"]))}
    rows_per_id = Counter(rows["track_id"].tolist())
    for track in layer:
        scores = rows["score"][rows["track_id"] == int(track.track_id)]
        assert track.score == pytest.approx(float(scores.mean()))
        assert isinstance(track.motion, Keyframed)
        assert len(track.motion.keyframes) == rows_per_id[int(track.track_id)]


def test_candidate_keyframes_sit_on_the_2hz_grid(scene: Scene) -> None:
    rows, stamps = tracker_rows(), frame_stamps_ns()
    layer = scene.layer("auto:tracker")
    keyframes = sorted({f for t in layer if isinstance(t.motion, Keyframed) for f in t.motion.keyframes})
    assert stamps[keyframes].tolist() == np.unique(rows["timestamp_ns"]).tolist()
    tracker_period = np.median(np.diff(np.unique(rows["timestamp_ns"])))
    step = round(tracker_period / np.median(np.diff(stamps)))
    assert round(1e9 / tracker_period) == 2 and step == 5
    assert set(np.diff(keyframes).tolist()) == {step}
    assert any("all timestamps match frames exactly" in n for n in scene.notes)


def test_candidate_keyframes_are_the_predicted_city_boxes(scene: Scene) -> None:
    rows, stamps = tracker_rows(), frame_stamps_ns()
    layer = scene.layer("auto:tracker")
    frame_of = {int(t): i for i, t in enumerate(stamps)}
    for r in range(0, len(rows["track_id"]), 7):
        track = layer.track(str(rows["track_id"][r]))
        frame = frame_of[int(rows["timestamp_ns"][r])]
        assert isinstance(track.motion, Keyframed)
        pose = track.motion.keyframes[frame]
        np.testing.assert_allclose(pose.translation, [rows["tx_m"][r], rows["ty_m"][r], rows["tz_m"][r]])
        assert np.isclose(np.cos(pose.yaw - rows["yaw"][r]), 1.0)
        attributes = track.frame_attributes[frame]
        assert attributes["score"] == rows["score"][r]
        assert attributes["velocity_m_per_s"] == [rows[f"v{a}_m_per_s"][r] for a in "xyz"]
        assert attributes["size_m"] == [rows["length_m"][r], rows["width_m"][r], rows["height_m"][r]]


def test_frames_between_candidate_keyframes_are_interpolated(scene: Scene) -> None:
    spanning = 0
    for track in scene.layer("auto:tracker"):
        assert isinstance(track.motion, Keyframed)
        keys = track.motion.frames
        shapes = scene.world_shapes(track)
        assert shapes.frames.tolist() == list(range(keys[0], keys[-1] + 1))
        for a, b in itertools.pairwise(keys):
            start, end = track.motion.keyframes[a].translation, track.motion.keyframes[b].translation
            for f in range(a + 1, b):
                expected = start + (f - a) / (b - a) * (end - start)
                np.testing.assert_allclose(shapes.cuboids.centers[f - keys[0]], expected, atol=1e-9)
                spanning += 1
    assert spanning > 1000


def test_candidates_find_the_ground_truth_vehicles_near_the_ego(scene: Scene) -> None:
    """Tracker boxes (city frame in the file) meet GT boxes (ego frame in the file): the poses agree."""
    predicted: dict[int, list[np.ndarray[Any, Any]]] = defaultdict(list)
    for track in scene.layer("auto:tracker"):
        assert isinstance(track.motion, Keyframed)
        for frame, pose in track.motion.keyframes.items():
            predicted[frame].append(pose.translation)
    # City-frame centres of GT vehicles within 50 m of the ego, per tracker frame.
    truth: dict[int, list[np.ndarray[Any, Any]]] = defaultdict(list)
    for track in scene.layer("ground_truth"):
        if track.label != "REGULAR_VEHICLE":
            continue
        world, ego = scene.world_shapes(track), scene.ego_shapes(track)
        near = np.linalg.norm(ego.cuboids.centers[:, :2], axis=1) < 50.0
        for frame, center in zip(world.frames[near].tolist(), world.cuboids.centers[near], strict=True):
            if frame in predicted:
                truth[frame].append(center)
    found = total = 0
    heights: list[float] = []
    for frame, centers in truth.items():
        boxes, guesses = np.array(centers), np.array(predicted[frame])
        distance, nearest = cKDTree(guesses[:, :2]).query(boxes[:, :2])
        found += int((distance < 2.0).sum())
        total += len(boxes)
        heights += np.abs(boxes[:, 2] - guesses[nearest, 2])[distance < 2.0].tolist()
    assert total > 100
    assert found / total > 0.9
    assert float(np.median(heights)) < 0.3
