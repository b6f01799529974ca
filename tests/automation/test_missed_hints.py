"""Missed-object hints: lidar clusters that no box covers, one hint per object across frames.

Real data: the Argoverse 2 sample log 7fab2350 (two consecutive sweeps with labels) and the KITTI
odometry demo drive (30 sweeps, no labels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.missed_hints import kind_label, lidar_hints
from labelpilot.automation.missed_objects import MissedCluster, missed_clusters
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import Cuboid, yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, world_shapes

AV2_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


@pytest.fixture(scope="module")
def av2(sample_dir: Path) -> Scene:
    return read_scene("av2", sample_dir / "argoverse2" / "logs" / AV2_LOG)


@pytest.fixture(scope="module")
def drive(sample_dir: Path) -> tuple[Scene, list[MissedCluster]]:
    """The demo drive with nothing labelled: every object-like cluster of its 30 sweeps is uncovered."""
    scene = read_scene("kitti-odometry", sample_dir / "kitti-odometry-00-demo")
    sweeps = SceneSweeps(scene, capacity=len(scene.frames))
    return scene, [c for f in range(len(scene.frames)) for c in missed_clusters(scene, [], sweeps, f)]


def _inside(point: np.ndarray, box: Cuboid, margin: float) -> bool:
    local = box.pose.inverse().apply(np.asarray(point))
    return bool(np.all(np.abs(local[:2]) <= box.size[:2] / 2 + margin))


def test_an_object_removed_from_two_sweeps_is_one_hint_with_its_box(av2: Scene) -> None:
    sweeps = SceneSweeps(av2)
    frames = [f.index for f in av2.frames if f.lidar is not None]
    assert len(frames) == 2 and frames[1] == frames[0] + 1
    truth = av2.layer("ground_truth")
    ego = av2.frames[frames[0]].world_T_ego
    removed = {}
    for track, box in av2.shapes_in_frame("ground_truth", frames[0], "world"):
        points = track.frame_attributes[frames[0]].get("num_interior_pts")
        near = float(np.hypot(*ego.inverse().apply(box.center)[:2])) <= 40.0
        big = isinstance(points, int) and points >= 100
        if track.label == "REGULAR_VEHICLE" and near and big and track.has_shape(frames[1]):
            removed[track.track_id] = track
    assert len(removed) >= 5
    partial = AnnotationLayer("ground_truth", [t for t in truth if t.track_id not in removed])
    clusters = [c for f in frames for c in missed_clusters(av2, [partial], sweeps, f)]
    hints = lidar_hints(av2, clusters)
    assert len(hints) < len(clusters)
    assert sum(len(h.frames) for h in hints) == len({(c.frame, id(c)) for c in clusters})
    assert sorted((c.frame, c.points) for h in hints for c in h.seen) == sorted(
        (c.frame, c.points) for c in clusters
    )
    whole = cars = 0
    for track in removed.values():
        boxes = {f: world_shapes(track, [f]).cuboids[0] for f in frames}
        on_it = [c for c in clusters if _inside(c.center_world, boxes[c.frame], 1.0)]
        seen_in = [c.frame for c in on_it]
        if not on_it or len(seen_in) != len(set(seen_in)):
            continue  # not seen, or seen as two clusters (a long vehicle's two ends)
        mine = [h for h in hints if any(c in on_it for c in h.seen)]
        assert len(mine) == 1, f"object {track.track_id} split into {len(mine)} hints"
        hint = mine[0]
        whole += 1
        assert hint.frames == tuple(seen_in) and set(hint.seen) == set(on_it)
        # The box offered is the one seen at the frame with the most points, on the object.
        best = max(on_it, key=lambda c: c.points)
        assert hint.frame == best.frame and np.allclose(hint.center_world, best.center_world)
        assert hint.label == kind_label(av2, hint.kind)
        if hint.kind == "car":
            assert hint.label == "REGULAR_VEHICLE"
            # A footprint fitted to points has no front: its heading is the box's up to a half turn.
            turn = abs(float(yaw_difference(hint.yaw_world, boxes[hint.frame].pose.yaw)))
            assert min(turn, np.pi - turn) < np.radians(20)
            cars += 1
    assert whole >= 0.7 * len(removed) and cars >= 0.5 * whole


def test_a_drive_past_parked_cars_gives_one_hint_per_car(drive: tuple[Scene, list[MissedCluster]]) -> None:
    scene, clusters = drive
    hints = lidar_hints(scene, clusters)
    assert len(clusters) >= 500 and len(hints) <= len(clusters) / 5
    # Every cluster is in exactly one hint, at its own frame.
    assert sum(len(h.frames) for h in hints) == len(clusters)
    assert all(h.frames[0] <= h.frame <= h.frames[-1] and h.frame in h.frames for h in hints)
    # Strongest first; an object seen in every sweep is stronger than one seen once.
    strengths = [h.strength for h in hints]
    assert strengths == sorted(strengths, reverse=True)
    long_seen = [h for h in hints if len(h.frames) >= 20]
    once = [h for h in hints if len(h.frames) == 1]
    assert len(long_seen) >= 5 and once
    assert min(h.strength for h in long_seen) > max(h.strength for h in once)

    # Parked objects: the ego drives past them, so their clusters move by metres in the ego frame while
    # they stay in one place in the world (up to what part of them is in view). One moving object is
    # followed all the same.
    def spread(points: np.ndarray) -> float:
        return float(np.ptp(points[:, :2], axis=0).max())

    parked = [h for h in long_seen if spread(np.array([c.center_world for c in h.seen])) < 3.5]
    assert len(parked) >= 0.8 * len(long_seen)
    assert all(spread(np.array([c.center_ego for c in h.seen])) > 10.0 for h in parked)
    assert any(spread(np.array([c.center_world for c in h.seen])) > 10.0 for h in long_seen)
