"""Test fixtures for task and track services: a team of users and a real KITTI scene stored as rows.

The scene is read from data/sample/kitti-tracking (sequence 0000) with the real importer and
written to the tables row by row with codec.track_to_rows, independently of the scene import service.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.scenes import Scene
from labelpilot.services import accounts, projects, tasks, track_edits
from labelpilot.services.actors import SYSTEM, Actor, Role
from labelpilot.services.codec import track_to_json, track_to_rows
from labelpilot.store.tables import EventRow, FrameRow, KeyframeRow, LayerRow, SceneRow, TrackRow
from tests.conftest import SAMPLE

KITTI_SEQUENCE = "0000"
GROUND_TRUTH = "ground_truth"
TRACKER_LAYER = "auto:pointrcnn_Car_hailanyi"
"""Real tracker output: candidate tracks with many keyframes (the detector layer has one-frame tracks)."""


@functools.cache
def kitti_scene() -> Scene:
    """KITTI tracking sequence 0000, read once per test session (the domain objects are not mutated)."""
    return read_scene("kitti-tracking", SAMPLE / "kitti-tracking", KITTI_SEQUENCE)


@dataclass(frozen=True)
class Team:
    project_id: int
    admin: Actor
    manager: Actor
    reviewer: Actor
    coach: Actor
    ann: Actor
    abe: Actor
    outsider: Actor


def make_team(session: Session, project_name: str = "streets") -> Team:
    """An admin, a project with one member of each role (two annotators) and a non-member.

    Users have no password: hashing one costs tens of milliseconds and no test logs in.
    """

    def user(name: str, *, is_admin: bool = False) -> Actor:
        return accounts.actor_of(accounts.create_user(session, name, None, is_admin=is_admin))

    admin = user("root", is_admin=True)
    project = projects.create_project(session, SYSTEM, project_name)
    members = {
        "meg": Role.MANAGER,
        "rita": Role.REVIEWER,
        "cora": Role.COACH,
        "ann": Role.ANNOTATOR,
        "abe": Role.ANNOTATOR,
    }
    actors = {name: user(name) for name in members}
    for name, role in members.items():
        projects.set_member(session, SYSTEM, project.id, name, role)
    return Team(
        project.id,
        admin,
        actors["meg"],
        actors["rita"],
        actors["cora"],
        actors["ann"],
        actors["abe"],
        user("otto"),
    )


@dataclass(frozen=True)
class StoredScene:
    scene_id: int
    frame_count: int
    layer_ids: dict[str, int]
    track_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    """(layer name, the source's track id) -> track row id."""


def insert_scene(
    session: Session,
    project_id: int,
    layers: tuple[str, ...] = (GROUND_TRUTH, TRACKER_LAYER),
    scene: Scene | None = None,
) -> StoredScene:
    scene = scene if scene is not None else kitti_scene()
    scene_row = SceneRow(
        project_id=project_id,
        name=scene.name,
        source_format=scene.source_format,
        notes=list(scene.notes),
        frame_count=len(scene.frames),
    )
    session.add(scene_row)
    session.flush()
    session.add_all(
        FrameRow(
            scene_id=scene_row.id,
            index=frame.index,
            timestamp_us=frame.timestamp_us,
            world_T_ego=pose_to_json(frame.world_T_ego),
            images={},
        )
        for frame in scene.frames
    )
    layer_ids: dict[str, int] = {}
    track_ids: dict[tuple[str, str], int] = {}
    for name in layers:
        layer_row = LayerRow(scene_id=scene_row.id, name=name, description=scene.layers[name].description)
        session.add(layer_row)
        session.flush()
        layer_ids[name] = layer_row.id
        for track in scene.layers[name].tracks:
            row, keyframes = track_to_rows(track, layer_row.id)
            session.add(row)
            session.flush()
            for keyframe in keyframes:
                keyframe.track_id = row.id
            session.add_all(keyframes)
            track_ids[(name, track.track_id)] = row.id
    session.flush()
    return StoredScene(scene_row.id, len(scene.frames), layer_ids, track_ids)


@dataclass(frozen=True)
class EditScene:
    team: Team
    stored: StoredScene
    task_id: int
    """ann's annotate task on the scene, in progress, on layer "work"."""


def make_edit_scene(db_factory: sessionmaker[Session]) -> EditScene:
    """A team, the KITTI scene with ground truth and tracker candidates, and ann's task started."""
    with db_factory.begin() as s:
        team = make_team(s)
        stored = insert_scene(s, team.project_id)
        task = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann"
        )
        tasks.start_task(s, team.ann, task.id)
    return EditScene(team, stored, task.id)


def stored_json(s: Session, track_id: int) -> dict[str, Any]:
    """The track as the codec renders it straight from the tables (independent of the edit services)."""
    row = s.get(TrackRow, track_id, populate_existing=True)
    assert row is not None
    keyframes = list(
        s.scalars(
            select(KeyframeRow)
            .where(KeyframeRow.track_id == track_id)
            .execution_options(populate_existing=True)
        )
    )
    return {**track_to_json(row, keyframes), "deleted": row.deleted}


def events_of(s: Session, track_id: int) -> list[EventRow]:
    return list(s.scalars(select(EventRow).where(EventRow.track_id == track_id).order_by(EventRow.id)))


def longest_candidate() -> str:
    layer = kitti_scene().layers[TRACKER_LAYER]
    return max(layer.tracks, key=lambda t: len(t.frames())).track_id


def confirmed_copy(db_factory: sessionmaker[Session], scene: EditScene, key: str | None = None) -> int:
    """ann confirms a real tracker candidate into the work layer; the copy's id."""
    candidate = scene.stored.track_ids[(TRACKER_LAYER, key or longest_candidate())]
    with db_factory.begin() as s:
        result = track_edits.confirm_candidate(s, scene.team.ann, candidate, 1, task_id=scene.task_id)
    return int(result.track["id"])
