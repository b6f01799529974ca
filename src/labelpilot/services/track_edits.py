"""Edits of tracks: validated, versioned, recorded as events.

Every edit of an existing track takes the ``expected_version`` the client last saw and fails with a
ConflictError (carrying the current track) when it is stale; a successful edit bumps the version by
one, records an event with the track before and after, and returns the track with its world-frame
shapes for every frame of its life, so that the editor can redraw all frames at once.

Candidates are confirmed, rejected or reopened in ``track_candidates`` (re-exported here).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from labelpilot.geometry.pose_json import pose_from_json, pose_to_json
from labelpilot.services.actors import Actor
from labelpilot.services.errors import InvalidError
from labelpilot.services.size_defaults import default_size
from labelpilot.services.track_candidates import (
    DEFAULT_WORK_LAYER,
    confirm_candidate,
    reject_candidate,
    reject_candidates,
    reopen_candidate,
    reopen_candidates,
)
from labelpilot.services.track_edit_input import (
    check_attributes,
    check_frame,
    check_label,
    check_layer_name,
    check_size,
    is_auto_layer,
    parse_keyframes,
    parse_pose,
)
from labelpilot.services.track_edit_store import (
    EditResult,
    apply_edit,
    authorise_edit,
    ensure_layer,
    insert_track,
    keyframes_json,
    load_scene,
    open_edit,
    record_edit,
    require_keyframed,
    result_of,
)
from labelpilot.services.track_life import accept_life, extend_track, set_absent, set_keyframes, set_life
from labelpilot.store.tables import SceneRow
from labelpilot.tracks import Keyframed, Provenance, Stationary, Track, TrackStatus, robust_world_pose


def _life(
    scene: SceneRow, first_frame: int | None, last_frame: int | None, default: tuple[int, int]
) -> tuple[int, int]:
    first = default[0] if first_frame is None else check_frame(first_frame, scene.frame_count, "first_frame")
    last = default[1] if last_frame is None else check_frame(last_frame, scene.frame_count, "last_frame")
    if first > last:
        raise InvalidError(f"first_frame {first} is after last_frame {last}", field="first_frame")
    return first, last


def create_track(
    session: Session,
    actor: Actor,
    scene_id: int,
    layer: str,
    label: str,
    size: Any = None,
    *,
    keyframes: Any = None,
    stationary_pose: Any = None,
    first_frame: int | None = None,
    last_frame: int | None = None,
    attributes: Any = None,
    task_id: int | None = None,
) -> EditResult:
    """A new manual track: either ``keyframes`` ({frame: pose}) or one ``stationary_pose``.

    A keyframed track lives from its first to its last keyframe, a stationary one the whole scene,
    unless ``first_frame``/``last_frame`` say otherwise. Poses are world poses (see parse_pose).
    Without a ``size`` the box starts from the class's size in this project (services.size_defaults).
    """
    scene = load_scene(session, scene_id)
    layer_name = check_layer_name(layer)
    task = authorise_edit(session, actor, scene, layer_name, task_id)
    if is_auto_layer(layer_name):
        raise InvalidError(
            "auto:* layers hold imported or computed candidates; draw in a work layer", "layer"
        )
    clean_label = check_label(label)
    clean_size = check_size(
        size if size is not None else default_size(session, scene.project_id, clean_label)
    )
    clean_attributes = check_attributes(attributes if attributes is not None else {})
    if (keyframes is None) == (stationary_pose is None):
        raise InvalidError("give either keyframes or a stationary_pose", field="keyframes")
    motion: Keyframed | Stationary
    if keyframes is not None:
        poses = parse_keyframes(keyframes, scene.frame_count)
        motion = Keyframed(poses)
        first, last = _life(scene, first_frame, last_frame, (min(poses), max(poses)))
        if min(poses) < first or max(poses) > last:
            raise InvalidError(f"keyframes must lie within frames {first}..{last}", field="keyframes")
    else:
        motion = Stationary(parse_pose(stationary_pose, "stationary_pose"))
        first, last = _life(scene, first_frame, last_frame, (0, scene.frame_count - 1))
    track = Track(
        track_id=f"manual-{uuid.uuid4().hex[:12]}",
        label=clean_label,
        size=np.asarray(clean_size),
        motion=motion,
        first_frame=first,
        last_frame=last,
        attributes=clean_attributes,
        provenance=Provenance("manual"),
        status=TrackStatus.CONFIRMED,
    )
    new_id = insert_track(session, track, ensure_layer(session, scene.id, layer_name).id)
    result = result_of(session, new_id)
    record_edit(session, actor, "track_created", scene, new_id, task, None, result.track)
    return result


def update_track(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    *,
    label: str | None = None,
    attributes: Any = None,
    size: Any = None,
    task_id: int | None = None,
) -> EditResult:
    """Change the label, the attributes (replaced as a whole) and/or the one size of the track."""
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    values: dict[str, Any] = {}
    if label is not None:
        values["label"] = check_label(label)
    if attributes is not None:
        values["attributes"] = check_attributes(attributes)
    if size is not None:
        values["size"] = check_size(size)
    if not values:
        raise InvalidError("nothing to change: give a label, attributes or a size", field="label")
    return apply_edit(session, actor, "track_updated", loaded, task, expected_version, values)


def set_keyframe(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    frame: int,
    pose: Any,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Set (add or replace) the world pose at ``frame``; a frame outside the life extends it."""
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    require_keyframed(loaded)
    frame = check_frame(frame, loaded.scene.frame_count)
    new_pose = parse_pose(pose)
    keyframes = {**loaded.keyframes, frame: pose_to_json(new_pose)}
    row = loaded.row
    values = {
        "first_frame": min(row.first_frame, frame),
        "last_frame": max(row.last_frame, frame),
        # A keyframe says the object is there, so the frame is no longer absent.
        "absent_frames": [f for f in row.absent_frames or [] if int(f) != frame],
    }
    return apply_edit(
        session, actor, "keyframe_set", loaded, task, expected_version, values, keyframes, frame=frame
    )


def delete_keyframe(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    frame: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Remove the keyframe at ``frame``; the frame keeps a shape, interpolated from its neighbours."""
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    require_keyframed(loaded)
    frame = check_frame(frame, loaded.scene.frame_count)
    if frame not in loaded.keyframes:
        raise InvalidError(f"track {track_id} has no keyframe at frame {frame}", field="frame")
    if len(loaded.keyframes) == 1:
        raise InvalidError("this is the track's only keyframe; delete the track instead", field="frame")
    keyframes = {f: p for f, p in loaded.keyframes.items() if f != frame}
    return apply_edit(
        session, actor, "keyframe_deleted", loaded, task, expected_version, {}, keyframes, frame=frame
    )


def make_stationary(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    pose: Any = None,
    *,
    task_id: int | None = None,
) -> EditResult:
    """One world pose for the track's whole life (default: robust_world_pose of its keyframes).

    On a track that is already stationary, ``pose`` moves its box (event ``stationary_pose_set``).
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    was_stationary = loaded.row.stationary_pose is not None
    if pose is not None:
        world_pose = parse_pose(pose)
    elif was_stationary:
        raise InvalidError(f"track {track_id} is already stationary; give a pose to move it", field="pose")
    else:
        world_pose = robust_world_pose([pose_from_json(p) for p in loaded.keyframes.values()])
    kind = "stationary_pose_set" if was_stationary else "track_made_stationary"
    values = {"stationary_pose": pose_to_json(world_pose)}
    return apply_edit(session, actor, kind, loaded, task, expected_version, values, {})


def make_moving(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    keyframes: Any = None,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Turn a stationary track into a keyframed one.

    By default the stationary pose becomes a keyframe at the first and the last frame, so nothing
    moves until the annotator sets a keyframe in between. Given ``keyframes`` extend the life.
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    row = loaded.row
    if row.stationary_pose is None:
        raise InvalidError(f"track {track_id} is already moving", field="motion")
    if keyframes is None:
        poses = {row.first_frame: row.stationary_pose, row.last_frame: row.stationary_pose}
    else:
        poses = keyframes_json(parse_keyframes(keyframes, loaded.scene.frame_count))
    values = {
        "stationary_pose": None,
        "first_frame": min(row.first_frame, min(poses)),
        "last_frame": max(row.last_frame, max(poses)),
    }
    return apply_edit(session, actor, "track_made_moving", loaded, task, expected_version, values, poses)


def delete_track(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Soft delete: the row stays (events point at it) with ``deleted`` set, and it has no shapes."""
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id)
    return apply_edit(session, actor, "track_deleted", loaded, task, expected_version, {"deleted": True})


__all__ = [
    "DEFAULT_WORK_LAYER",
    "EditResult",
    "accept_life",
    "confirm_candidate",
    "create_track",
    "delete_keyframe",
    "delete_track",
    "extend_track",
    "make_moving",
    "make_stationary",
    "reject_candidate",
    "reject_candidates",
    "reopen_candidate",
    "reopen_candidates",
    "robust_world_pose",
    "set_absent",
    "set_keyframe",
    "set_keyframes",
    "set_life",
    "update_track",
]
