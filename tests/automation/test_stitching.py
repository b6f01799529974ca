"""Fragments of one object re-associated across a gap in its detections, on real KITTI detections."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.stitching import FragmentEnds, StitchParams, bridging_error, stitch
from labelpilot.formats import read_scene
from labelpilot.guidance.coverage import covering_tracks
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Track, world_shapes

NO_STITCHING = StitchParams(max_gap_s=0.0)
GAP_FRAMES = 12
"""1.2 s at 10 Hz: longer than the association's 4 missed frames, shorter than the 2 s gap stitched."""
Gapped = tuple[Scene, AnnotationLayer, Track, list[int]]
"""A scene, its detection layer with a hole made in one car's detections, the car's candidate, the hole."""


@functools.cache
def _kitti(root: Path, sequence: str) -> Scene:
    return read_scene("kitti-tracking", root, sequence)


def _moving_candidate(candidates: AnnotationLayer) -> Track:
    """The candidate with the most detections among those that travel more than 20 m."""

    def travel(t: Track) -> float:
        centers = [a["det_center"] for a in t.frame_attributes.values()]
        return float(np.linalg.norm(np.subtract(centers[-1], centers[0])[:2]))

    moving = [t for t in candidates if travel(t) > 20.0]
    return max(moving, key=lambda t: len(t.frame_attributes))


def _without(layer: AnnotationLayer, source_ids: set[str]) -> AnnotationLayer:
    return AnnotationLayer(layer.name, [t for t in layer if t.track_id not in source_ids])


@pytest.fixture(scope="module")
def gapped(sample_dir: Path) -> Gapped:
    """KITTI 0001's detections with a 1.2 s hole in the middle of one moving car's detections."""
    scene = _kitti(sample_dir / "kitti-tracking", "0001")
    layer = scene.layer("auto:pointrcnn")
    car = _moving_candidate(build_candidates(scene, layer))
    frames = sorted(car.frame_attributes)
    middle = frames[len(frames) // 2]
    hole = [f for f in frames if middle <= f < middle + GAP_FRAMES]
    removed = {str(car.frame_attributes[f]["det_source"]) for f in hole}
    return scene, _without(layer, removed), car, hole


def _holding(layer: AnnotationLayer, car: Track, frames: list[int]) -> list[Track]:
    """Candidates built from the car's own detections at any of ``frames``."""
    sources = {car.frame_attributes[f]["det_source"] for f in frames if f in car.frame_attributes}
    return [t for t in layer if sources & {a["det_source"] for a in t.frame_attributes.values()}]


def test_a_hole_in_the_detections_splits_a_car_without_stitching(gapped: Gapped) -> None:
    scene, layer, car, hole = gapped
    frames = sorted(car.frame_attributes)
    before, after = [f for f in frames if f < hole[0]], [f for f in frames if f > hole[-1]]
    split = build_candidates(scene, layer, stitching=NO_STITCHING)
    assert len(_holding(split, car, before + after)) == 2
    joined = build_candidates(scene, layer)
    held = _holding(joined, car, before + after)
    assert len(held) == 1
    # One candidate, alive through the hole (interpolated there) and keyed on both sides.
    track = held[0]
    assert track.first_frame <= before[-1] and track.last_frame >= after[0]
    assert all(track.has_shape(f) for f in hole)
    assert {before[-1], after[0]} <= set(track.frame_attributes)
    assert track.attributes["detections"] == len(before) + len(after)
    assert len(joined.tracks) < len(split.tracks)
    assert "gaps of up to 2 s bridged" in joined.description


def test_the_bridge_follows_the_motion(gapped: Gapped) -> None:
    """Through the hole the stitched car is where the removed detections saw it: within 0.5 m at the
    median (one of the removed detections is itself 2 m off its neighbours)."""
    scene, layer, car, hole = gapped
    track = _holding(build_candidates(scene, layer), car, [min(car.frame_attributes)])[0]
    shapes = world_shapes(track, hole)
    seen = np.array([car.frame_attributes[f]["det_center"] for f in hole])
    assert np.median(np.linalg.norm(shapes.cuboids.centers[:, :2] - seen[:, :2], axis=1)) < 0.5


def _real_ends(gapped: Gapped) -> tuple[FragmentEnds, FragmentEnds]:
    """The two fragments' ends as the unstitched build gives them."""
    scene, layer, car, _ = gapped
    first, second = sorted(
        _holding(build_candidates(scene, layer, stitching=NO_STITCHING), car, list(car.frame_attributes)),
        key=lambda t: t.first_frame,
    )
    times = np.array([f.timestamp_us for f in scene.frames], dtype=np.float64) / 1e6

    def ends(t: Track) -> FragmentEnds:
        keys = sorted(t.frame_attributes)
        centers = np.array([t.frame_attributes[k]["det_center"] for k in keys])[:, :2]
        # Velocities over the first and last five detections.
        start_v = (centers[4] - centers[0]) / (times[keys[4]] - times[keys[0]])
        end_v = (centers[-1] - centers[-5]) / (times[keys[-1]] - times[keys[-5]])
        return FragmentEnds(
            t.label, len(keys), times[keys[0]], centers[0], start_v, times[keys[-1]], centers[-1], end_v
        )

    return ends(first), ends(second)


def test_stitch_gates_on_place_label_and_gap(gapped: Gapped) -> None:
    a, b = _real_ends(gapped)
    params = StitchParams()
    assert bridging_error(a, b) < params.gate_m + params.gate_m_per_s * (b.start_time - a.end_time)
    assert stitch([a, b], params) == [[0, 1]]
    assert stitch([b, a], params) == [[1, 0]]  # time order, whatever the input order
    shifted = dataclasses.replace(b, start_position=b.start_position + np.array([0.0, 4.0]))
    assert stitch([a, shifted], params) == [[0], [1]]
    assert stitch([a, dataclasses.replace(b, label="Pedestrian")], params) == [[0], [1]]
    assert stitch([a, dataclasses.replace(b, label="unknown")], params, frozenset({"unknown"})) == [[0, 1]]
    assert stitch([a, b], dataclasses.replace(params, max_gap_s=0.5)) == [[0], [1]]
    assert stitch([a, dataclasses.replace(b, hits=1)], params) == [[0], [1]]


def test_each_fragment_takes_at_most_one_successor(gapped: Gapped) -> None:
    """Two fragments start where one ended: only the better-fitting one continues it."""
    a, b = _real_ends(gapped)
    near_miss = dataclasses.replace(b, start_position=b.start_position + np.array([0.0, 0.8]))
    assert stitch([a, near_miss, b], StitchParams()) == [[0, 2], [1]]


def _split_objects(scene: Scene, candidates: AnnotationLayer) -> int:
    """Ground-truth objects covered by more than one candidate that do not overlap in time."""
    found = covering_tracks(list(candidates), list(scene.layer("ground_truth")))
    spans: dict[int, list[tuple[int, int]]] = {}
    for track, truth in zip(candidates, found, strict=True):
        if truth is not None:
            spans.setdefault(truth, []).append((track.first_frame, track.last_frame))
    split = 0
    for pieces in spans.values():
        pieces.sort()
        split += any(later[0] > earlier[1] for earlier, later in itertools.pairwise(pieces))
    return split


def _pieces(scene: Scene) -> tuple[int, int]:
    layer = scene.layer("auto:pointrcnn")
    return (
        _split_objects(scene, build_candidates(scene, layer, stitching=NO_STITCHING)),
        _split_objects(scene, build_candidates(scene, layer)),
    )


@pytest.mark.parametrize("sequence", ["0001", "0004"])
def test_stitching_splits_no_object(sample_dir: Path, sequence: str) -> None:
    before, after = _pieces(_kitti(sample_dir / "kitti-tracking", sequence))
    assert after <= before  # 1 and 1 on both


@pytest.mark.shared_data
def test_fewer_objects_come_in_pieces(shared_data: Path) -> None:
    """On the real detections of 0009 (no hole made), stitching leaves fewer objects split into
    candidates one after the other (the ground truth only measures it): 6 before, 1 after."""
    before, after = _pieces(_kitti(shared_data / "kitti-tracking", "0009"))
    assert after <= before - 3


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="stitching needs"):
        StitchParams(gate_m=0.0)
