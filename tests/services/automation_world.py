"""Set-up shared by the automation and guidance service tests: real sample scenes imported by the service.

KITTI tracking 0001 (PointRCNN detections, a tracker, ground truth, no lidar) and the KITTI odometry
demo drive (30 real sweeps, no labels) are read from data/sample and stored with
``services.scenes.import_scene``; the same files read by the format readers are the independent
reference the tests compare against.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.scenes import Scene
from labelpilot.services import automation_runs, scenes, tasks
from labelpilot.store.blobs import BlobStore
from labelpilot.tracks import Track, world_shapes
from tests.conftest import SAMPLE
from tests.services.scene_rows import Team, make_team

KITTI_ROOT = SAMPLE / "kitti-tracking"
KITTI_SEQUENCE = "0001"
DRIVE_ROOT = SAMPLE / "kitti-odometry-00-demo"
DETECTIONS = "auto:pointrcnn"
"""Real single-frame PointRCNN detections of KITTI 0001."""
TRACKER = "auto:pointrcnn_Car_hailanyi"
PARKED_FRAMES = 12
"""Frames a test keys a parked car frame by frame: over 1.1 s the stationarity classifier is sure of
it (over 0.5 s, 6 frames, its confidence stays near 0.56 on KITTI's visual-odometry poses)."""


@functools.cache
def kitti_file_scene() -> Scene:
    """KITTI tracking 0001 as the format reader gives it (read once; tests do not mutate it)."""
    return read_scene("kitti-tracking", KITTI_ROOT, KITTI_SEQUENCE)


@functools.cache
def drive_file_scene() -> Scene:
    return read_scene("kitti-odometry", DRIVE_ROOT)


@functools.cache
def parked_car() -> Track:
    """The ground-truth car of KITTI 0001 that moves least in the world, among those seen in at least
    PARKED_FRAMES consecutive frames from their first (KITTI's poses are visual odometry, so even a
    parked car drifts a little; this is the stillest)."""

    def seen_long_enough(track: Track) -> bool:
        frames = world_shapes(track).frames[:PARKED_FRAMES].tolist()
        return frames == list(range(track.first_frame, track.first_frame + PARKED_FRAMES))

    def spread(track: Track) -> float:
        centers = world_shapes(track).cuboids.centers[:, :2]
        return float(np.max(np.linalg.norm(centers - np.median(centers, axis=0), axis=1)))

    cars = [t for t in kitti_file_scene().layers["ground_truth"] if t.label == "Car" and seen_long_enough(t)]
    return min(cars, key=spread)


def parked_car_keyframes() -> list[tuple[int, list[float]]]:
    """The parked car's first PARKED_FRAMES frames with its ground-truth world poses (12 numbers)
    there: where a careful person keying it frame by frame would place the boxes."""
    shapes = world_shapes(parked_car())
    frames = [int(f) for f in shapes.frames[:PARKED_FRAMES]]
    return [(f, pose_to_json(shapes.cuboids[i].pose)) for i, f in enumerate(frames)]


@dataclass(frozen=True)
class World:
    team: Team
    blobs: BlobStore
    scene_id: int
    task_id: int
    """ann's annotate task on the scene, started (in progress) on layer "work"."""


def make_world(db_factory: sessionmaker[Session], blob_root: Path, which: str = "kitti") -> World:
    """A team, one real scene imported by the service (``kitti`` or ``drive``) and ann's task on it."""
    blobs = BlobStore(str(blob_root))
    with db_factory.begin() as s:
        team = make_team(s)
        if which == "kitti":
            row = scenes.import_scene(
                s, blobs, team.admin, team.project_id, "kitti-tracking", KITTI_ROOT, KITTI_SEQUENCE
            )
        else:
            row = scenes.import_scene(s, blobs, team.admin, team.project_id, "kitti-odometry", DRIVE_ROOT)
        task = tasks.create_task(s, team.manager, team.project_id, row.id, "annotate", assignee="ann")
        tasks.start_task(s, team.ann, task.id)
    return World(team, blobs, row.id, task.id)


def make_autolabelled_world(db_factory: sessionmaker[Session], blob_root: Path) -> World:
    """KITTI 0001 stored with ann's task, and candidates associated from its detections (autolabel)."""
    world = make_world(db_factory, blob_root, "kitti")
    with db_factory.begin() as s:
        automation_runs.autolabel(s, world.blobs, world.team.manager, world.scene_id, from_layer=DETECTIONS)
    return world
