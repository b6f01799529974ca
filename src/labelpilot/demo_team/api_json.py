"""Translation between the API's JSON and the domain objects the effort model works with: scenes
(frames and ego poses), tracks as a track edit or a layer listing answers them, guidance actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labelpilot.geometry.pose_json import pose_from_json
from labelpilot.scenes import Frame, Scene
from labelpilot.tracks import Keyframed, Provenance, Stationary, Track, TrackStatus


def scene_from_json(name: str, frames: Sequence[Mapping[str, Any]]) -> Scene:
    """The scene as the editor shows it: frames with timestamps and ego poses (no layers)."""
    return Scene(
        name,
        [
            Frame(int(f["index"]), int(f["timestamp_us"]), pose_from_json(f["world_T_ego"]))
            for f in sorted(frames, key=lambda f: int(f["index"]))
        ],
    )


def track_from_json(data: Mapping[str, Any]) -> Track:
    """A track from the API's ``track`` object; its id is the store's id, as the editor addresses it."""
    if data["stationary_pose"] is not None:
        motion: Stationary | Keyframed = Stationary(pose_from_json(data["stationary_pose"]))
    else:
        motion = Keyframed({int(f): pose_from_json(p) for f, p in data["keyframes"].items()})
    provenance = data["provenance"]
    return Track(
        track_id=str(data["id"]),
        label=str(data["label"]),
        size=np.asarray(data["size"], dtype=np.float64),
        motion=motion,
        first_frame=int(data["first_frame"]),
        last_frame=int(data["last_frame"]),
        attributes=dict(data["attributes"] or {}),
        provenance=Provenance(provenance["kind"], provenance["source"]),
        status=TrackStatus(data["status"]),
        score=None if data["score"] is None else float(data["score"]),
        absent_frames=frozenset(int(f) for f in data["absent_frames"]),
    )
