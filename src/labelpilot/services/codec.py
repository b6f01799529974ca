"""Conversion between domain objects (Pose, Track) and table rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from labelpilot.geometry.pose_json import pose_from_json, pose_to_json
from labelpilot.store.tables import KeyframeRow, TrackRow
from labelpilot.tracks import Keyframed, Provenance, Stationary, Track, TrackStatus


class StoredKeyframe(NamedTuple):
    """A keyframe as stored, without an ORM object (building those costs more than the data)."""

    frame: int
    world_pose: list[Any]


def _frame_attributes_to_json(track: Track) -> dict[str, Any]:
    return {str(frame): attrs for frame, attrs in track.frame_attributes.items()}


def track_to_rows(track: Track, layer_id: int) -> tuple[TrackRow, list[KeyframeRow]]:
    """A new track row and its keyframe rows (the keyframes still need the track's id)."""
    motion = track.motion
    row = TrackRow(
        layer_id=layer_id,
        key=track.track_id,
        label=track.label,
        attributes=dict(track.attributes),
        size=[float(v) for v in track.size],
        first_frame=track.first_frame,
        last_frame=track.last_frame,
        stationary_pose=pose_to_json(motion.world_pose) if isinstance(motion, Stationary) else None,
        absent_frames=sorted(track.absent_frames),
        frame_attributes=_frame_attributes_to_json(track),
        provenance_kind=track.provenance.kind,
        provenance_source=track.provenance.source,
        status=track.status.value,
        score=track.score,
        version=1,
        deleted=False,
    )
    keyframes = (
        [KeyframeRow(frame=f, world_pose=pose_to_json(p)) for f, p in motion.keyframes.items()]
        if isinstance(motion, Keyframed)
        else []
    )
    return row, keyframes


def track_from_rows(row: TrackRow, keyframes: Sequence[KeyframeRow | StoredKeyframe]) -> Track:
    if row.stationary_pose is not None:
        motion: Stationary | Keyframed = Stationary(pose_from_json(row.stationary_pose))
    else:
        motion = Keyframed({k.frame: pose_from_json(k.world_pose) for k in keyframes})
    return Track(
        track_id=str(row.id),
        label=row.label,
        size=np.asarray(row.size, dtype=np.float64),
        motion=motion,
        first_frame=row.first_frame,
        last_frame=row.last_frame,
        attributes=dict(row.attributes or {}),
        provenance=Provenance(row.provenance_kind, row.provenance_source),  # type: ignore[arg-type]
        status=TrackStatus(row.status),
        score=row.score,
        absent_frames=frozenset(int(f) for f in row.absent_frames or []),
        frame_attributes={int(k): v for k, v in (row.frame_attributes or {}).items()},
    )


def track_to_json(row: TrackRow, keyframes: Sequence[KeyframeRow | StoredKeyframe]) -> dict[str, Any]:
    """The API's and the event log's view of a track (also the 'current state' of a 409)."""
    return {
        "id": row.id,
        "key": row.key,
        "layer_id": row.layer_id,
        "label": row.label,
        "attributes": dict(row.attributes or {}),
        "size": list(row.size),
        "first_frame": row.first_frame,
        "last_frame": row.last_frame,
        "stationary": row.stationary_pose is not None,
        "stationary_pose": row.stationary_pose,
        "keyframes": {str(k.frame): k.world_pose for k in sorted(keyframes, key=lambda k: k.frame)},
        "absent_frames": list(row.absent_frames or []),
        "provenance": {"kind": row.provenance_kind, "source": row.provenance_source},
        "status": row.status,
        "score": row.score,
        "version": row.version,
    }
