"""Edits of a track's life: its frame interval, the frames where it is absent, many keyframes at once.

Same contract as every edit in ``track_edits`` (re-exported there): ``expected_version`` or a
ConflictError, one version step and one event per edit, the track and its derived shapes back.

Invariants kept here: a keyframed track keeps at least one keyframe inside its life, no keyframe
lies outside it, absent frames lie strictly inside it (its first and last frames always have a
shape; an object that is not seen there has a shorter life) and never at a keyframe.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.guidance.life_actions import LIFE_ACCEPTED
from labelpilot.services.actors import Actor
from labelpilot.services.errors import InvalidError
from labelpilot.services.scene_access import frame_stamps_us
from labelpilot.services.track_edit_input import check_frame, parse_keyframes
from labelpilot.services.track_edit_store import (
    EditResult,
    LoadedTrack,
    apply_edit,
    keyframes_json,
    open_edit,
    require_keyframed,
)
from labelpilot.tracks import Keyframed, world_shapes
from labelpilot.tracks.extrapolation import extrapolated_pose


def _absent(loaded: LoadedTrack) -> set[int]:
    return {int(f) for f in loaded.row.absent_frames or []}


def set_life(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    first_frame: int,
    last_frame: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Trim or extend the track's life to ``first_frame``..``last_frame`` (inclusive).

    Keyframes and absent marks outside the new life are dropped; where that drops keyframes beyond a
    new end, the end becomes a keyframe with the shape it had, so no box inside the life moves.
    Past its first or last keyframe a track holds that keyframe's pose (tracks.interpolation).
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    values, keyframes = _life_values(loaded, first_frame, last_frame)
    return apply_edit(session, actor, "track_life_set", loaded, task, expected_version, values, keyframes)


def _life_values(
    loaded: LoadedTrack, first_frame: int, last_frame: int
) -> tuple[dict[str, Any], dict[int, list[float]] | None]:
    """The columns and keyframes of the track living ``first_frame``..``last_frame`` (see ``set_life``)."""
    frame_count = loaded.scene.frame_count
    first = check_frame(first_frame, frame_count, "first_frame")
    last = check_frame(last_frame, frame_count, "last_frame")
    if first > last:
        raise InvalidError(f"first_frame {first} is after last_frame {last}", field="first_frame")
    absent = _absent(loaded)
    for frame, field in ((first, "first_frame"), (last, "last_frame")):
        if frame in absent:
            raise InvalidError(
                f"frame {frame} is marked absent; a life starts and ends where the object is seen "
                "(mark it visible first, or pick another frame)",
                field=field,
            )
    keyframes: dict[int, list[float]] | None = None
    if loaded.row.stationary_pose is None:
        keyframes = {f: p for f, p in loaded.keyframes.items() if first <= f <= last}
        keyframes.update(_kept_ends(loaded, first, last))
        if not keyframes:
            raise InvalidError(
                f"no keyframe of track {loaded.row.id} lies in frames {first}..{last}; "
                "a track keeps at least one keyframe (set one inside the new life first)",
                field="first_frame",
            )
    values = {
        "first_frame": first,
        "last_frame": last,
        "absent_frames": sorted(f for f in absent if first <= f <= last),
    }
    return values, keyframes


def extend_track(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    frame: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Extend the track's life to ``frame``, a frame outside it.

    A moving track with two keyframes or more gets a keyframe at ``frame`` where its keyframes lead
    (``tracks.extrapolation``), so the box a person looks at there has moved on with the object; a
    stationary track, or one with a single keyframe, shows its held box there.
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    frame = check_frame(frame, loaded.scene.frame_count, "frame")
    values, keyframes = _extended_values(session, loaded, frame)
    return apply_edit(
        session, actor, "track_extended", loaded, task, expected_version, values, keyframes, frame=frame
    )


def accept_life(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    first_frame: int,
    last_frame: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Accept the life the queue proposes (the editor's ``a``), marked ``life_accepted`` so the queue
    stops offering it, in one edit (event ``life_accepted``).

    A moving track a person keyed, proposed to go on past its last frame from its own first frame, is
    extended there where its keyframes lead (as ``extend_track``: the proposal continued its motion, so
    a held box would not be the box proposed); any other track's life is set (as ``set_life``).
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    first = check_frame(first_frame, loaded.scene.frame_count, "first_frame")
    last = check_frame(last_frame, loaded.scene.frame_count, "last_frame")
    track = loaded.as_track()
    row = loaded.row
    keyed = track.provenance.kind == "manual" and not track.is_stationary
    if keyed and first == row.first_frame and last > row.last_frame:
        values, keyframes = _extended_values(session, loaded, last)
    else:
        values, keyframes = _life_values(loaded, first, last)
    values["attributes"] = {**(row.attributes or {}), LIFE_ACCEPTED: True}
    return apply_edit(session, actor, "life_accepted", loaded, task, expected_version, values, keyframes)


def _extended_values(
    session: Session, loaded: LoadedTrack, frame: int
) -> tuple[dict[str, Any], dict[int, list[float]] | None]:
    """The columns and keyframes of the track extended to ``frame`` (see ``extend_track``)."""
    row = loaded.row
    if row.first_frame <= frame <= row.last_frame:
        raise InvalidError(
            f"frame {frame} is inside the track's life {row.first_frame}..{row.last_frame}; "
            "extend to a frame outside it",
            field="frame",
        )
    keyframes: dict[int, list[float]] | None = None
    motion = loaded.as_track().motion
    if isinstance(motion, Keyframed):
        times_s = [t / 1e6 for t in frame_stamps_us(session, loaded.scene.id)]
        pose = extrapolated_pose(motion.keyframes, times_s, frame)
        if pose is not None:
            keyframes = {**loaded.keyframes, frame: pose_to_json(pose)}
    values = {"first_frame": min(row.first_frame, frame), "last_frame": max(row.last_frame, frame)}
    return values, keyframes


def _kept_ends(loaded: LoadedTrack, first: int, last: int) -> dict[int, list[float]]:
    """Keyframes at the new ends where a trim drops keyframes beyond them, holding the shapes there as
    they were: trimming a life never moves the boxes that stay in it."""
    track = loaded.as_track()
    ends = [
        end
        for end, dropped in (
            (first, any(f < first for f in loaded.keyframes)),
            (last, any(f > last for f in loaded.keyframes)),
        )
        if dropped and end not in loaded.keyframes
    ]
    shapes = world_shapes(track, ends)
    return {
        int(frame): pose_to_json(Pose.from_quat_xyzw(shapes.cuboids.quats_xyzw[i], shapes.cuboids.centers[i]))
        for i, frame in enumerate(shapes.frames.tolist())
    }


def _check_frame_list(frames: Any, loaded: LoadedTrack) -> list[int]:
    """Distinct frames, ascending: a non-empty list of integers inside the track's life."""
    frame_count = loaded.scene.frame_count
    if not isinstance(frames, list | tuple) or not frames:
        raise InvalidError("frames must be a non-empty list of frame indices", field="frames")
    # Bounded before any per-item work: a scene has no more distinct frames than this.
    if len(frames) > frame_count:
        raise InvalidError(f"frames lists at most the scene's {frame_count} frames", field="frames")
    row = loaded.row
    out: set[int] = set()
    for frame in frames:
        # Unlike keyframe keys (strings in JSON objects), list items must be real integers.
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise InvalidError(f"frames must hold integer frame indices, got {frame!r}", field="frames")
        check_frame(frame, frame_count, "frames")
        if not row.first_frame <= frame <= row.last_frame:
            raise InvalidError(
                f"frame {frame} is outside the track's life {row.first_frame}..{row.last_frame}",
                field="frames",
            )
        out.add(frame)
    return sorted(out)


def set_absent(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    frames: Any,
    absent: bool,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Mark ``frames`` of the life as absent (the object is not seen there: no shape) or visible again."""
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    if not isinstance(absent, bool):
        raise InvalidError("absent must be true or false", field="absent")
    wanted = _check_frame_list(frames, loaded)
    row = loaded.row
    current = _absent(loaded)
    if absent:
        for frame in wanted:
            if frame in (row.first_frame, row.last_frame):
                raise InvalidError(
                    f"frame {frame} ends the track's life {row.first_frame}..{row.last_frame}; "
                    "trim the life instead",
                    field="frames",
                )
            if frame in loaded.keyframes:
                raise InvalidError(f"frame {frame} has a keyframe; delete it first", field="frames")
        new_absent = current | set(wanted)
    else:
        new_absent = current - set(wanted)
    values = {"absent_frames": sorted(new_absent)}
    return apply_edit(
        session,
        actor,
        "frames_absent_set",
        loaded,
        task,
        expected_version,
        values,
        frames=wanted,
        absent=absent,
    )


def set_keyframes(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    keyframes: Any,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Add or replace many keyframes (``{frame: pose}``, as create_track takes) in one edit.

    Like set_keyframe at each frame: the life grows to cover them and they are no longer absent.
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    require_keyframed(loaded)
    poses = keyframes_json(parse_keyframes(keyframes, loaded.scene.frame_count))
    row = loaded.row
    values = {
        "first_frame": min(row.first_frame, min(poses)),
        "last_frame": max(row.last_frame, max(poses)),
        "absent_frames": sorted(_absent(loaded) - set(poses)),
    }
    merged = {**loaded.keyframes, **poses}
    return apply_edit(
        session, actor, "keyframes_set", loaded, task, expected_version, values, merged, frames=list(poses)
    )


__all__ = ["set_absent", "set_keyframes", "set_life"]
