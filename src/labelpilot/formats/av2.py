"""Argoverse 2 sensor-dataset logs -> Scene.

A log directory holds ``annotations.feather`` (or ``annotations_with_ego.feather``),
``city_SE3_egovehicle.feather``, ``sensors/lidar/<timestamp_ns>.feather``, ``calibration/`` and
optionally ``tracker_predictions.feather``. The importer maps them onto the domain model:

- world = the city frame; frames = the sorted unique annotation timestamps (10 Hz);
  ``timestamp_us`` = timestamp_ns // 1000 (AV2 stamps are whole microseconds; where one is not,
  the scene notes say so, and the sweep BlobRef url keeps the exact nanoseconds);
- world_T_ego = the pose row with exactly the frame's timestamp;
- one lidar "lidar" with identity ego_T_sensor, because AV2 sweeps are stored in the ego frame;
- cameras from calibration (no images in these logs);
- layers ``ground_truth`` (see ``av2_ground_truth``) and ``auto:tracker`` (see ``av2_tracker``).

Everything is read and checked before the Scene is built, so bad input raises a FormatError
and returns nothing half-made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.av2_ground_truth import (
    EGO_CATEGORY,
    Annotations,
    ground_truth_layer,
    read_annotations,
)
from labelpilot.formats.av2_sensors import POSES_FILE, lidar_sweeps, read_cameras, read_ego_poses
from labelpilot.formats.av2_tracker import TRACKER_FILE, TrackerSummary, tracker_layer
from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, Frame, LidarSensor, Scene

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ANNOTATION_FILES = ("annotations.feather", "annotations_with_ego.feather")
LIDAR_NAME = "lidar"
LIDAR_RANGE_M = 200.0
"""Argoverse 2's two 32-beam lidars see 200 m, and its labels reach as far: in log 3b3570b4 half of
the labelled shapes are farther than 81 m, the farthest at 203 m."""

__all__ = ["find_log_dir", "log_ids", "read"]


def _is_log_dir(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (*ANNOTATION_FILES, POSES_FILE))


def log_ids(root: Path) -> list[str]:
    """The ids of the logs directly under ``root``."""
    return sorted(d.name for d in root.iterdir() if d.is_dir() and _is_log_dir(d))


def find_log_dir(path: Path, sequence: str | None = None) -> Path:
    """The log directory meant by ``path`` (a log, a folder of logs, or a folder with ``logs/``)."""
    if not path.is_dir():
        raise FormatError(path, "not a directory (expected an Argoverse 2 log or a folder of logs)")
    if _is_log_dir(path):
        if sequence is not None and sequence != path.name:
            raise FormatError(path, f"is log {path.name!r}, not the requested log {sequence!r}")
        return path
    root = path / "logs" if (path / "logs").is_dir() else path
    ids = log_ids(root)
    if not ids:
        raise FormatError(
            path, "holds no Argoverse 2 log (no annotations.feather or city_SE3_egovehicle.feather)"
        )
    if sequence is None:
        if len(ids) > 1:
            raise FormatError(root, f"holds {len(ids)} logs; choose one of: {', '.join(ids)}")
        sequence = ids[0]
    if sequence not in ids:
        raise FormatError(root, f"has no log {sequence!r}; logs: {', '.join(ids)}")
    return root / sequence


def _annotation_file(log_dir: Path) -> Path:
    # Prefer the plain file: the _with_ego variant only adds the ego's own box.
    for name in ANNOTATION_FILES:
        if (log_dir / name).is_file():
            return log_dir / name
    raise FormatError(log_dir / ANNOTATION_FILES[0], "missing: a log needs annotations to define its frames")


def _frame_rate_hz(stamps_ns: IntArray) -> float:
    if len(stamps_ns) < 2:
        return 0.0
    return float(1e9 / np.median(np.diff(stamps_ns)))


def _notes(
    log_dir: Path,
    stamps_ns: IntArray,
    annotations: Annotations,
    has_poses: bool,
    sweeps: list[BlobRef | None],
    unmatched_sweeps: int,
    tracker: TrackerSummary | None,
    cameras: int,
) -> list[str]:
    count = len(stamps_ns)
    notes = [
        f"Argoverse 2 log {log_dir.name}: {count} frames at {_frame_rate_hz(stamps_ns):.1f} Hz "
        f"({(stamps_ns[-1] - stamps_ns[0]) / 1e9:.1f} s)" + ("; world = city frame" if has_poses else ""),
        f"layers: ground_truth ({len(set(annotations.track_uuids))} tracks from {annotations.path.name})"
        + ("" if tracker is None else f", auto:tracker ({tracker.candidates} candidates)"),
    ]
    inexact = int((stamps_ns % 1000 != 0).sum())
    notes.append(
        "frame timestamps are timestamp_ns // 1000"
        + ("; all are whole microseconds" if inexact == 0 else f"; {inexact} lose sub-microsecond digits")
    )
    if not has_poses:
        notes.append(f"no {POSES_FILE}: the ego is taken as still (world = ego frame), objects move with it")
    missing = sum(ref is None for ref in sweeps)
    if missing:
        notes.append(f"no lidar for {missing} of {count} frames")
    if unmatched_sweeps:
        notes.append(f"{unmatched_sweeps} sweep file(s) match no annotation timestamp and are not frames")
    if cameras == 0:
        notes.append("no camera calibration")
    else:
        notes.append(f"{cameras} cameras calibrated, no images")
    if annotations.ego_rows:
        notes.append(f"{annotations.ego_rows} {EGO_CATEGORY} rows (the ego's own box) are not tracks")
    if tracker is not None:
        match = (
            "all timestamps match frames exactly"
            if tracker.exact_matches == tracker.predictions
            else f"{tracker.predictions - tracker.exact_matches} matched to the nearest frame "
            f"(at most {tracker.largest_offset_ns / 1e6:.3f} ms away)"
        )
        notes.append(
            f"auto:tracker: {tracker.predictions} predictions on {tracker.keyframe_frames} frames, {match}; "
            f"frames between keyframes are interpolated ({tracker.spanned_gaps} missed steps spanned); "
            "no classes, label 'unknown'"
        )
    return notes


def read(path: Path, sequence: str | None = None) -> Scene:
    """Read one Argoverse 2 log (``sequence`` = log id when ``path`` holds several)."""
    # Absolute, so that sweep BlobRef urls stay valid whatever the working directory.
    log_dir = find_log_dir(Path(path).absolute(), sequence)
    annotations = read_annotations(_annotation_file(log_dir))
    stamps_ns = np.unique(annotations.timestamps_ns)
    if len(stamps_ns) == 0:
        raise FormatError(annotations.path, f"has only {EGO_CATEGORY} rows, no objects")
    poses_path = log_dir / POSES_FILE
    has_poses = poses_path.is_file()
    world_T_ego = (
        read_ego_poses(poses_path, stamps_ns) if has_poses else np.tile(np.eye(4), (len(stamps_ns), 1, 1))
    )
    frame_of = {int(t): i for i, t in enumerate(stamps_ns.tolist())}
    gt_layer = ground_truth_layer(annotations, frame_of, world_T_ego)

    tracker_path = log_dir / TRACKER_FILE
    tracker = tracker_layer(tracker_path, stamps_ns) if tracker_path.is_file() else None
    cameras = read_cameras(log_dir)
    sweeps, unmatched_sweeps = lidar_sweeps(log_dir, stamps_ns)

    frames = [
        Frame(i, int(stamp) // 1000, Pose(world_T_ego[i]), lidar=sweeps[i])
        for i, stamp in enumerate(stamps_ns.tolist())
    ]
    scene = Scene(
        name=log_dir.name,
        frames=frames,
        lidar=LidarSensor(LIDAR_NAME, Pose.identity(), LIDAR_RANGE_M),
        cameras=cameras,
        source_format="av2",
        notes=_notes(
            log_dir,
            stamps_ns,
            annotations,
            has_poses,
            sweeps,
            unmatched_sweeps,
            None if tracker is None else tracker[1],
            len(cameras),
        ),
    )
    scene.add_layer(gt_layer)
    if tracker is not None:
        scene.add_layer(tracker[0])
    return scene
