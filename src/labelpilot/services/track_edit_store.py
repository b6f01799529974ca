"""The storage side of track edits: loading, who may edit what, versioned writes, results.

A write is conditional on the version the client last saw (``WHERE version = expected``) and checks
the row count, so of two concurrent writers exactly one wins on SQLite and PostgreSQL alike; the
other gets a ConflictError carrying the current state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from labelpilot.geometry import CuboidBatch, Pose
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.services.actors import ALL_ROLES, Actor, Role, require_role
from labelpilot.services.codec import (
    StoredKeyframe,
    track_from_rows,
    track_to_json,
    track_to_rows,
)
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.services.events import record_event
from labelpilot.services.track_edit_input import GROUND_TRUTH, is_auto_layer
from labelpilot.store.tables import KeyframeRow, LayerRow, SceneRow, TaskRow, TrackRow
from labelpilot.tracks import Track, TrackShapes, world_shapes

EDITOR_ROLES = frozenset({Role.REVIEWER, Role.MANAGER})
"""Roles that edit any layer of a project's scenes without a task (ground_truth stays admin-only)."""
IN_PROGRESS = "in_progress"
"""tasks.TaskState.IN_PROGRESS (tasks imports this module, so it cannot import tasks)."""


@dataclass
class LoadedTrack:
    """A track as read before an edit, with the scene and layer it belongs to."""

    row: TrackRow
    keyframes: dict[int, list[float]]
    layer: LayerRow
    scene: SceneRow

    def to_json(self) -> dict[str, Any]:
        return track_json(self.row, self.keyframes)

    def as_track(self) -> Track:
        """The track as a domain object, named by its row id."""
        return track_from_rows(self.row, _keyframe_rows(self.keyframes))


@dataclass(frozen=True, eq=False)
class EditResult:
    """The track after an edit and its world-frame shapes at every frame of its life.

    ``candidate`` is the candidate's new state when a confirmation copied it into another layer.
    """

    track: dict[str, Any]
    shapes: TrackShapes
    candidate: dict[str, Any] | None = field(default=None)
    model: Track | None = field(default=None)
    """The same track as a domain object (None once deleted)."""

    def to_json(self) -> dict[str, Any]:
        cuboids = self.shapes.cuboids
        out: dict[str, Any] = {
            "track": self.track,
            "shapes": {
                "frames": self.shapes.frames.tolist(),
                "centers": cuboids.centers.tolist(),
                "sizes": cuboids.sizes.tolist(),
                "quats_xyzw": cuboids.quats_xyzw.tolist(),
                "yaws": cuboids.yaws.tolist(),
            },
        }
        if self.candidate is not None:
            out["candidate"] = self.candidate
        return out


def _keyframe_rows(keyframes: Mapping[int, list[float]]) -> list[StoredKeyframe]:
    return [StoredKeyframe(f, p) for f, p in sorted(keyframes.items())]


def track_json(row: TrackRow, keyframes: Mapping[int, list[float]]) -> dict[str, Any]:
    """codec.track_to_json plus the soft-delete flag, which a client must see in a 409."""
    return {**track_to_json(row, _keyframe_rows(keyframes)), "deleted": row.deleted}


def _read_keyframes(session: Session, track_id: int) -> dict[int, list[float]]:
    rows = session.execute(
        select(KeyframeRow.frame, KeyframeRow.world_pose)
        .where(KeyframeRow.track_id == track_id)
        .order_by(KeyframeRow.frame)
    ).all()
    return {int(frame): list(pose) for frame, pose in rows}


def load_track(session: Session, track_id: int) -> LoadedTrack:
    # populate_existing: another transaction may have changed the row since this session saw it.
    row = session.get(TrackRow, track_id, populate_existing=True)
    if row is None:
        raise NotFoundError(f"track {track_id} not found")
    layer = session.get(LayerRow, row.layer_id)
    scene = session.get(SceneRow, layer.scene_id) if layer else None
    if layer is None or scene is None:  # pragma: no cover - foreign keys cascade
        raise NotFoundError(f"track {track_id} not found")
    return LoadedTrack(row, _read_keyframes(session, track_id), layer, scene)


def load_scene(session: Session, scene_id: int) -> SceneRow:
    scene = session.get(SceneRow, scene_id)
    if scene is None:
        raise NotFoundError(f"scene {scene_id} not found")
    return scene


def ensure_layer(session: Session, scene_id: int, name: str) -> LayerRow:
    """The scene's layer of that name, created if missing; safe when two sessions create it at once."""
    # INSERT .. ON CONFLICT DO NOTHING on the (scene_id, name) unique constraint: no race, no error.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LayerRow).values(scene_id=scene_id, name=name, description="").on_conflict_do_nothing()
    )
    layer = session.scalar(select(LayerRow).where(LayerRow.scene_id == scene_id, LayerRow.name == name))
    assert layer is not None  # inserted above
    return layer


def authorise_edit(
    session: Session,
    actor: Actor,
    scene: SceneRow,
    layer_name: str,
    task_id: int | None,
    *,
    candidate_source: bool = False,
) -> TaskRow | None:
    """The task the edit belongs to (if any), after checking that the actor may edit this layer.

    Annotators (and coaches) edit only through a task assigned to them that is in progress, on its
    scene and in its layer; ``candidate_source`` also lets them confirm or reject the candidates
    of an ``auto:*`` layer of that scene. ground_truth is read-only for everyone but admins.
    """
    role = require_role(session, actor, scene.project_id, ALL_ROLES)
    task: TaskRow | None = None
    if task_id is not None:
        task = session.get(TaskRow, task_id, populate_existing=True)
        if task is None or task.project_id != scene.project_id:
            raise NotFoundError(f"task {task_id} not found")
        if task.scene_id != scene.id:
            raise InvalidError(f"task {task_id} is on scene {task.scene_id}, not {scene.id}", field="task_id")
    if layer_name == GROUND_TRUTH and not actor.is_admin:
        raise ForbiddenError("the ground_truth layer is read-only; only an administrator may change it")
    if actor.is_admin or role in EDITOR_ROLES:
        return task
    if task is None:
        raise ForbiddenError("an annotator edits tracks only within a task assigned to them (give task_id)")
    if task.assignee_id != actor.user_id:
        raise ForbiddenError(f"task {task.id} is not assigned to you")
    if task.state != IN_PROGRESS:
        raise ForbiddenError(f"task {task.id} is {task.state}; start it before editing")
    if layer_name != task.layer and not (candidate_source and is_auto_layer(layer_name)):
        raise ForbiddenError(f"task {task.id} edits layer {task.layer!r}, not {layer_name!r}")
    return task


def require_live(loaded: LoadedTrack, expected_version: int) -> None:
    """Refuse early (without writing) when the client's version is stale or the track is deleted."""
    row = loaded.row
    if row.deleted:
        raise ConflictError(f"track {row.id} was deleted", current=loaded.to_json())
    if row.version != expected_version:
        raise ConflictError(
            f"track {row.id} is at version {row.version}, not {expected_version}; reload it",
            current=loaded.to_json(),
        )


def write_versioned(
    session: Session,
    loaded: LoadedTrack,
    expected_version: int,
    values: Mapping[str, Any],
    keyframes: Mapping[int, list[float]] | None = None,
) -> None:
    """Apply new column values (and, if given, the full new keyframe set) if the version still matches.

    The conditional UPDATE comes first: while it holds the row, no other writer can change the
    track, and keyframes are only ever changed by the holder of that row.
    """
    track_id = loaded.row.id
    statement = (
        update(TrackRow)
        .where(TrackRow.id == track_id, TrackRow.version == expected_version, TrackRow.deleted.is_(False))
        .values(**values, version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[Any]", session.execute(statement))
    if result.rowcount != 1:
        current = load_track(session, track_id)
        raise ConflictError(
            f"track {track_id} changed meanwhile (now version {current.row.version}); reload it",
            current=current.to_json(),
        )
    if keyframes is not None:
        _sync_keyframes(session, track_id, loaded.keyframes, keyframes)
    session.expire(loaded.row)


def _sync_keyframes(
    session: Session, track_id: int, old: Mapping[int, list[float]], new: Mapping[int, list[float]]
) -> None:
    # ORM-enabled statements (default synchronisation) keep keyframe objects a caller holds current.
    # A changed keyframe is deleted and inserted again, so that a batch of hundreds (a bulk edit) is
    # two statements rather than one UPDATE per frame.
    changed = sorted(f for f, pose in new.items() if f in old and old[f] != pose)
    stale = sorted(set(old) - set(new)) + changed
    if stale:
        session.execute(
            delete(KeyframeRow).where(KeyframeRow.track_id == track_id, KeyframeRow.frame.in_(stale))
        )
    fresh = [f for f in sorted(new) if f not in old] + changed
    session.add_all(KeyframeRow(track_id=track_id, frame=f, world_pose=new[f]) for f in fresh)
    session.flush()


def keyframes_json(poses: Mapping[int, Pose]) -> dict[int, list[float]]:
    return {frame: pose_to_json(pose) for frame, pose in sorted(poses.items())}


def empty_shapes() -> TrackShapes:
    return TrackShapes(
        np.zeros(0, dtype=np.int64), CuboidBatch(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 4)))
    )


def result_of(session: Session, track_id: int, candidate: dict[str, Any] | None = None) -> EditResult:
    """The stored track after an edit, and its derived shapes (none once deleted)."""
    loaded = load_track(session, track_id)
    if loaded.row.deleted:
        return EditResult(loaded.to_json(), empty_shapes(), candidate)
    model = track_from_rows(loaded.row, _keyframe_rows(loaded.keyframes))
    return EditResult(loaded.to_json(), world_shapes(model), candidate, model)


def record_edit(
    session: Session,
    actor: Actor,
    kind: str,
    scene: SceneRow,
    track_id: int,
    task: TaskRow | None,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    **extra: Any,
) -> None:
    record_event(
        session,
        actor,
        kind,
        project_id=scene.project_id,
        scene_id=scene.id,
        task_id=task.id if task else None,
        track_id=track_id,
        payload={"before": before, "after": after, **extra},
    )


def _check_version(expected_version: Any) -> int:
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise InvalidError("expected_version must be an integer", field="expected_version")
    return expected_version


def require_keyframed(loaded: LoadedTrack) -> None:
    """Keyframe edits are refused on a stationary track (make it moving first)."""
    if loaded.row.stationary_pose is not None:
        raise InvalidError(
            f"track {loaded.row.id} is stationary; make it moving before setting keyframes", field="motion"
        )


def open_edit(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    task_id: int | None,
    *,
    candidate_source: bool = False,
) -> tuple[LoadedTrack, TaskRow | None]:
    """Load a track for an edit: checks the actor's rights, then that the track is live and current."""
    version = _check_version(expected_version)
    loaded = load_track(session, track_id)
    # Authorise before revealing anything about the track's state.
    task = authorise_edit(
        session, actor, loaded.scene, loaded.layer.name, task_id, candidate_source=candidate_source
    )
    require_live(loaded, version)
    return loaded, task


def apply_edit(
    session: Session,
    actor: Actor,
    kind: str,
    loaded: LoadedTrack,
    task: TaskRow | None,
    expected_version: int,
    values: Mapping[str, Any],
    keyframes: Mapping[int, list[float]] | None = None,
    **extra: Any,
) -> EditResult:
    """Write an edit of an existing track opened by open_edit, record it, and return the result."""
    before = loaded.to_json()
    write_versioned(session, loaded, expected_version, values, keyframes)
    result = result_of(session, loaded.row.id)
    record_edit(session, actor, kind, loaded.scene, loaded.row.id, task, before, result.track, **extra)
    return result


def insert_track(session: Session, track: Track, layer_id: int) -> int:
    """Store a new track and its keyframes; returns its id."""
    row, keyframes = track_to_rows(track, layer_id)
    session.add(row)
    session.flush()
    for keyframe in keyframes:
        keyframe.track_id = row.id
    session.add_all(keyframes)
    session.flush()
    return row.id
