"""The stationary-objects review: every stationary candidate of a scene in one world-frame view.

The items are the pending ``confirm_stationary`` actions of the guidance queue (``guidance_queue``, the
queue the editor's ``/guidance`` route serves; only its candidate items are computed), in its order,
each with the world box that confirming the candidate and marking it stationary gives:
``track_edits.make_stationary`` without a pose puts the box at ``robust_world_pose`` of the track's
keyframes (a confirmation copies the candidate's keyframes as they are), and a candidate that is
already stationary keeps its one pose.

Where the scene has lidar, the points are the sweeps of the frames of the items' lives (every frame of
the scene when there is no item), at most ``MAX_SWEEPS`` of them spread evenly, moved into the world
frame through the scene's active ego poses (``pose_layers.current_poses``: the poses the editor shows),
thinned to one point per ``VOXEL_SIZE`` cube (the first point of the cube, a real return) and capped at
``MAX_POINTS``. They travel as base64 of little-endian float32 x, y, z, intensity rows.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_from_json
from labelpilot.services.actors import Actor
from labelpilot.services.blob_sweeps import BlobSweeps
from labelpilot.services.guidance_queue import candidate_guidance
from labelpilot.services.pose_layers import current_poses
from labelpilot.services.track_edits import robust_world_pose
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import FrameRow, KeyframeRow, LayerRow, TrackRow
from labelpilot.tracks import TrackStatus

VOXEL_SIZE = 0.2
"""Metres: one point per cube of this size keeps the shape of a parked car and drops the rest."""
MAX_POINTS = 200_000
"""What a browser draws without stutter on a software renderer, after thinning."""
MAX_SWEEPS = 30
"""Sweeps read for one review (each is ~2 MB in memory); more frames add little to a static map."""
POINTS_ENCODING = "base64 of little-endian float32 x, y, z, intensity rows (world frame)"


def _candidate_rows(session: Session, scene_id: int, ids: Sequence[int]) -> dict[int, TrackRow]:
    """The stored, still pending candidates of the scene among ``ids``."""
    if not ids:
        return {}
    rows = session.scalars(
        select(TrackRow)
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .where(
            LayerRow.scene_id == scene_id,
            TrackRow.id.in_(ids),
            TrackRow.deleted.is_(False),
            TrackRow.status == TrackStatus.CANDIDATE.value,
        )
    )
    return {row.id: row for row in rows}


def _keyframe_poses(session: Session, ids: Sequence[int]) -> dict[int, list[Pose]]:
    poses: dict[int, list[Pose]] = defaultdict(list)
    if not ids:
        return poses
    query = (
        select(KeyframeRow.track_id, KeyframeRow.world_pose)
        .where(KeyframeRow.track_id.in_(ids))
        .order_by(KeyframeRow.track_id, KeyframeRow.frame)
    )
    for track_id, pose in session.execute(query):
        poses[track_id].append(pose_from_json(pose))
    return poses


def proposed_pose(row: TrackRow, keyframes: list[Pose]) -> Pose:
    """The world pose ``make_stationary`` gives the confirmed copy of this candidate."""
    if row.stationary_pose is not None:
        return pose_from_json(row.stationary_pose)
    return robust_world_pose(keyframes)


def _item(action: dict[str, Any], row: TrackRow, pose: Pose) -> dict[str, Any]:
    return {
        "track_id": str(row.id),
        "layer": action["layer"],
        "label": row.label,
        "version": row.version,
        "first_frame": row.first_frame,
        "last_frame": row.last_frame,
        "box": {
            "center": [float(v) for v in pose.translation],
            "size": [float(v) for v in row.size],
            "yaw": float(pose.yaw),
        },
        "frame": action["frame"],
        "view": action["view"],
        "reason": action["reason"],
        "priority": action["priority"],
    }


def review_items(
    session: Session, blobs: BlobStore, actor: Actor, scene_id: int, task_id: int | None = None
) -> list[dict[str, Any]]:
    """The queue's pending ``confirm_stationary`` items, in its order, with their proposed world boxes.

    Access as ``guidance_queue.guidance`` (whoever sees the scene; a task must be on it). An action on
    a candidate that is not stored (detections associated on the fly) has no box to confirm: left out.
    """
    actions = [
        a
        for a in candidate_guidance(session, blobs, actor, scene_id, task_id=task_id)
        if a["kind"] == "confirm_stationary"
    ]
    ids = [int(a["track_id"]) for a in actions if str(a["track_id"] or "").isdigit()]
    rows = _candidate_rows(session, scene_id, ids)
    keyframes = _keyframe_poses(session, [i for i, row in rows.items() if row.stationary_pose is None])
    items = []
    for action in actions:
        row = rows.get(int(action["track_id"])) if str(action["track_id"] or "").isdigit() else None
        if row is None or (row.stationary_pose is None and not keyframes[row.id]):
            continue
        items.append(_item(action, row, proposed_pose(row, keyframes[row.id])))
    return items


def _sweep_frames(session: Session, scene_id: int, lives: Sequence[tuple[int, int]]) -> list[int]:
    """Frames with a sweep inside the lives (every one when no life is given), at most MAX_SWEEPS."""
    with_lidar = session.scalars(
        select(FrameRow.index)
        .where(FrameRow.scene_id == scene_id, FrameRow.lidar_blob.is_not(None))
        .order_by(FrameRow.index)
    ).all()
    frames = [f for f in with_lidar if not lives or any(a <= f <= b for a, b in lives)]
    if len(frames) <= MAX_SWEEPS:
        return frames
    picks = np.linspace(0, len(frames) - 1, MAX_SWEEPS).round().astype(int)
    return [frames[i] for i in sorted(set(picks.tolist()))]


def thinned(
    points: NDArray[np.float32], voxel: float = VOXEL_SIZE, cap: int = MAX_POINTS
) -> NDArray[np.float32]:
    """One point per occupied voxel (the first one seen), then every k-th voxel to stay within ``cap``."""
    if len(points) == 0:
        return points
    cells = np.floor(points[:, :3].astype(np.float64) / voxel).astype(np.int64)
    cells -= cells.min(axis=0)
    span = cells.max(axis=0) + 1
    # One integer per cell (x-major): np.unique on it is far faster than on rows.
    keys = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    _, first = np.unique(keys, return_index=True)
    if len(first) > cap:
        first = first[:: int(np.ceil(len(first) / cap))]
    return points[np.sort(first)]


def accumulated_points(
    session: Session, blobs: BlobStore, scene_id: int, lives: Sequence[tuple[int, int]]
) -> dict[str, Any] | None:
    """The scene's sweeps over ``lives`` in the world frame, thinned; None when it has no sweeps.

    No access check: for services that checked.
    """
    frames = _sweep_frames(session, scene_id, lives)
    if not frames and not _sweep_frames(session, scene_id, []):
        return None
    poses = current_poses(session, scene_id)
    sweeps = BlobSweeps.of_rows(session, blobs, scene_id, capacity=1)
    chunks: list[NDArray[np.float32]] = []
    for frame in frames:
        ego = sweeps.points_ego(frame)
        if ego is None or not len(ego):
            continue
        world = ego.copy()
        world[:, :3] = poses[frame].apply(ego[:, :3].astype(np.float64)).astype(np.float32)
        chunks.append(world)
    points = thinned(np.concatenate(chunks) if chunks else np.zeros((0, 4), np.float32))
    return {
        "count": len(points),
        "frames": frames,
        "voxel_size": VOXEL_SIZE,
        "encoding": POINTS_ENCODING,
        "data": base64.b64encode(points.astype("<f4").tobytes()).decode("ascii"),
    }


def stationary_review(
    session: Session, blobs: BlobStore, actor: Actor, scene_id: int, task_id: int | None = None
) -> dict[str, Any]:
    """``{"items": review_items(...), "points": accumulated_points(...)}`` over the items' lives."""
    items = review_items(session, blobs, actor, scene_id, task_id)
    lives = [(int(i["first_frame"]), int(i["last_frame"])) for i in items]
    return {"items": items, "points": accumulated_points(session, blobs, scene_id, lives)}
