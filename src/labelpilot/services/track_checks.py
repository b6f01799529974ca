"""The editor's check key on a stored track: which frame to look at next (``guidance.checks``).

The editor remembers, per track, what the person judged this session (frames looked at, frames found
right as shown, ends accepted from the proposed life) and sends it with each press of the key; the
rule itself is ``guidance.checks.next_check``, the same one the effort benchmark's annotator follows,
with the limits in seconds of ``DEFAULT_LIMIT_SECONDS`` turned into frames by the scene's frame period.

Reading is checking the scene: whoever sees the scene (``scene_access``) may ask, as for its guidance;
nothing is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from labelpilot.guidance.checks import (
    DEFAULT_LIMIT_SECONDS,
    CheckLimits,
    Judged,
    next_check,
    supported_frames,
)
from labelpilot.services import tasks
from labelpilot.services.actors import Actor
from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.services.errors import InvalidError, NotFoundError
from labelpilot.services.scene_access import visible_scene
from labelpilot.services.scene_browse import scene_frame_period_s
from labelpilot.services.track_edit_store import load_track


def judged_frames(value: Any, frame_count: int, field: str) -> frozenset[int]:
    """A list of distinct frame indices of the scene (``field`` names it in errors)."""
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple):
        raise InvalidError(f"{field} must be a list of frame indices", field=field)
    # Bounded before any per-item work: distinct frames of a scene are at most its frame count.
    if len(value) > frame_count:
        raise InvalidError(f"{field} lists at most the scene's {frame_count} frames", field=field)
    seen: set[int] = set()
    for frame in value:
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise InvalidError(f"{field} must hold integer frame indices, got {frame!r}", field=field)
        if not 0 <= frame < frame_count:
            raise InvalidError(
                f"{field}: frame {frame} is outside the scene's frames 0..{frame_count - 1}", field=field
            )
        if frame in seen:
            raise InvalidError(f"{field} lists frame {frame} twice", field=field)
        seen.add(frame)
    return frozenset(seen)


def next_track_check(
    session: Session,
    actor: Actor,
    track_id: int,
    *,
    looked: Any = None,
    right: Any = None,
    accepted_ends: Any = None,
    task_id: int | None = None,
) -> dict[str, Any]:
    """``{"frame", "kind", "reason", "supported_frames"}``: the frame of the track to look at next
    (``frame`` and ``kind`` null once every stretch may stay as it is) given what was judged."""
    loaded = load_track(session, track_id)
    scene = visible_scene(session, actor, loaded.scene.id)
    if loaded.row.deleted:
        raise NotFoundError(f"track {track_id} was deleted")
    if task_id is not None:
        task = tasks.get_task(session, actor, task_id)
        if task.scene_id != scene.id:
            raise InvalidError(f"task {task_id} is on scene {task.scene_id}, not {scene.id}", field="task_id")
    frame_count = scene.frame_count
    judged = Judged(
        judged_frames(looked, frame_count, "looked"),
        judged_frames(right, frame_count, "right"),
        judged_frames(accepted_ends, frame_count, "accepted_ends"),
    )
    keyframes = [StoredKeyframe(f, p) for f, p in sorted(loaded.keyframes.items())]
    track = track_from_rows(loaded.row, keyframes)
    limits = CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, scene_frame_period_s(session, scene.id))
    supported = supported_frames(track)
    check = next_check(track, judged, limits, supported)
    return {
        "frame": None if check is None else check.frame,
        "kind": None if check is None else check.kind,
        "reason": "every stretch of the track has been looked at closely enough"
        if check is None
        else check.reason,
        "supported_frames": sorted(supported),
    }


__all__ = ["judged_frames", "next_track_check"]
