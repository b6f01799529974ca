"""The scene's active ego poses, and moving every stored track when the active pose layer changes.

A scene's imported poses stay in ``frames.world_T_ego``; corrected trajectories are rows of
``scene_pose_layers`` (``store.pose_tables``), at most one of them active. Readers of a scene's poses
(``scene_load``, the frame endpoints, exports through ``scene_from_rows``) ask ``active_poses_json``
and use the imported poses where it gives None.

Every world-frame pose stored for the scene's tracks (keyframes, stationary poses, the raw detections
a candidate keeps) is in the world of the active trajectory. ``switch_poses`` moves all of them, in
every layer, with ``automation.pose_rebase``: a keyframed track keeps its boxes in the sensor frame at
its keyframes, so nothing a person (or an importer) placed moves on screen; a stationary track keeps
the box of the middle frame of its life and, through the new poses, becomes one world box for all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from labelpilot.automation.pose_rebase import corrected_T_raw, rebase_track
from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_from_json, pose_to_json
from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.store.pose_tables import ScenePoseLayer
from labelpilot.store.tables import FrameRow, KeyframeRow, LayerRow, TrackRow
from labelpilot.tracks import Keyframed, Stationary

RAW = "raw"
"""The imported poses (``frames.world_T_ego``), active when no pose layer is."""
CORRECTED = "corrected"
_IN_CHUNK = 5000


def active_layer(session: Session, scene_id: int) -> ScenePoseLayer | None:
    return session.scalar(
        select(ScenePoseLayer).where(ScenePoseLayer.scene_id == scene_id, ScenePoseLayer.active.is_(True))
    )


def pose_layer(session: Session, scene_id: int, name: str) -> ScenePoseLayer | None:
    return session.scalar(
        select(ScenePoseLayer).where(ScenePoseLayer.scene_id == scene_id, ScenePoseLayer.name == name)
    )


def active_poses_json(session: Session, scene_id: int) -> list[list[Any]] | None:
    """The active pose layer's world_T_ego per frame (12 numbers each), None while the imported are active."""
    poses = session.scalar(
        select(ScenePoseLayer.poses).where(
            ScenePoseLayer.scene_id == scene_id, ScenePoseLayer.active.is_(True)
        )
    )
    return None if poses is None else list(poses)


def raw_poses(session: Session, scene_id: int) -> list[Pose]:
    rows = session.scalars(
        select(FrameRow.world_T_ego).where(FrameRow.scene_id == scene_id).order_by(FrameRow.index)
    )
    return [pose_from_json(values) for values in rows]


def current_poses(session: Session, scene_id: int) -> list[Pose]:
    """The scene's poses as every reader sees them now (the active layer's, else the imported)."""
    active = active_poses_json(session, scene_id)
    return raw_poses(session, scene_id) if active is None else [pose_from_json(v) for v in active]


def _keyframes(session: Session, track_ids: Sequence[int]) -> dict[int, list[StoredKeyframe]]:
    out: dict[int, list[StoredKeyframe]] = defaultdict(list)
    # In chunks: SQLite and PostgreSQL limit the number of bound parameters of one statement.
    for start in range(0, len(track_ids), _IN_CHUNK):
        query = select(KeyframeRow.track_id, KeyframeRow.frame, KeyframeRow.world_pose).where(
            KeyframeRow.track_id.in_(track_ids[start : start + _IN_CHUNK])
        )
        for track_id, frame, pose in session.execute(query):
            out[track_id].append(StoredKeyframe(frame, pose))
    return out


def move_tracks(session: Session, scene_id: int, before: Sequence[Pose], after: Sequence[Pose]) -> int:
    """Re-express every track of the scene (all layers, deleted ones too) from the world of ``before``
    to that of ``after`` (see the module doc). Returns the number of tracks moved."""
    moves = corrected_T_raw(before, after)
    session.flush()
    rows = list(
        session.scalars(
            select(TrackRow)
            .join(LayerRow, LayerRow.id == TrackRow.layer_id)
            .where(LayerRow.scene_id == scene_id)
            .order_by(TrackRow.id)
        )
    )
    keyframes = _keyframes(session, [r.id for r in rows])
    track_values: list[dict[str, Any]] = []
    keyframe_values: list[dict[str, Any]] = []
    for row in rows:
        moved = rebase_track(track_from_rows(row, keyframes[row.id]), moves)
        motion = moved.motion
        if isinstance(motion, Keyframed):
            keyframe_values.extend(
                {"b_track": row.id, "b_frame": f, "world_pose": pose_to_json(p)}
                for f, p in motion.keyframes.items()
            )
        track_values.append(
            {
                "b_id": row.id,
                "stationary_pose": pose_to_json(motion.world_pose)
                if isinstance(motion, Stationary)
                else None,
                "frame_attributes": {str(f): attrs for f, attrs in moved.frame_attributes.items()},
            }
        )
    # Core executemany statements: the ORM's bulk update by primary key costs several times more.
    tracks, keyframe_table = cast(Table, TrackRow.__table__), cast(Table, KeyframeRow.__table__)
    if track_values:
        # A new version per moved track: an editor still showing the old world gets its next edit
        # refused as stale (and reloads) instead of writing a box of the old world into the new one.
        moved_rows = (
            update(tracks).where(tracks.c.id == bindparam("b_id")).values(version=tracks.c.version + 1)
        )
        session.execute(moved_rows, track_values)
    if keyframe_values:
        session.execute(
            update(keyframe_table).where(
                keyframe_table.c.track_id == bindparam("b_track"),
                keyframe_table.c.frame == bindparam("b_frame"),
            ),
            keyframe_values,
        )
    # Rows loaded before (in this session) would still show the old poses.
    session.expire_all()
    return len(rows)


def switch_poses(session: Session, scene_id: int, target: ScenePoseLayer | None) -> int:
    """Make ``target`` (None: the imported poses) the scene's active poses, moving every track there."""
    before = current_poses(session, scene_id)
    after = raw_poses(session, scene_id) if target is None else [pose_from_json(v) for v in target.poses]
    moved = move_tracks(session, scene_id, before, after)
    for row in session.scalars(select(ScenePoseLayer).where(ScenePoseLayer.scene_id == scene_id)):
        row.active = target is not None and row.id == target.id
    session.flush()
    return moved


def store_and_activate(
    session: Session, scene_id: int, name: str, poses: Sequence[Pose], params: dict[str, Any]
) -> ScenePoseLayer:
    """Write (or replace) the pose layer ``name`` and make it the active one, moving every track from
    the poses active before (whichever they were) to ``poses`` in one pass."""
    before = current_poses(session, scene_id)
    row = pose_layer(session, scene_id, name)
    if row is None:
        row = ScenePoseLayer(scene_id=scene_id, name=name, active=False)
        session.add(row)
    row.poses = [pose_to_json(p) for p in poses]
    row.params = params
    session.flush()
    move_tracks(session, scene_id, before, poses)
    for other in session.scalars(select(ScenePoseLayer).where(ScenePoseLayer.scene_id == scene_id)):
        other.active = other.name == name
    session.flush()
    stored = pose_layer(session, scene_id, name)
    assert stored is not None
    return stored
