"""The people of the live-KPI benchmark and the project history their dashboards are computed from.

On top of the server benchmark's project (``server_setup.prepare``: the KITTI scenes, annotators with
an annotate task in progress, confirmed tracks for the first ``editors`` of them), managers join, every
person gets a personal API token for their dashboards, and ``history_events`` earlier heartbeats of
the annotators are stored, 30 s apart as the editor sends them, so that a KPI snapshot has a real
project's amount of events to read and sum (not timed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts, projects
from labelpilot.services.actors import Role
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import EventRow, Project, TaskRow, User, utcnow
from server_setup import EditTrack, prepare

HEARTBEAT_SECONDS = 30
"""How often the editor sends a heartbeat while its person works."""
SESSION_HEARTBEATS = 240
"""One stored work session: two hours of heartbeats, then a break longer than the idle threshold."""
INSERT_BATCH = 5_000


class Viewer(NamedTuple):
    """One person whose dashboard is open: name, role in the project and a personal API token."""

    name: str
    role: Role
    token: str


@dataclass(frozen=True)
class SseWorld:
    """The benchmark's project, everyone who watches its KPIs, and who edits."""

    project_id: int
    viewers: list[Viewer]
    editors: list[EditTrack]
    """Annotators with a confirmed track in their task: each benchmark edit is made by one of them."""
    history_events: int


def _tokens(session: Session, names: list[str], role: Role) -> list[Viewer]:
    return [
        Viewer(
            name, role, accounts.create_api_token(session, accounts.get_user_by_name(session, name), "sse")
        )
        for name in names
    ]


def _store_history(session: Session, project_id: int, count: int) -> None:
    """``count`` heartbeats spread over the annotators' tasks, in sessions going back from an hour ago."""
    tasks = session.execute(
        select(TaskRow.id, TaskRow.assignee_id, TaskRow.scene_id)
        .where(TaskRow.project_id == project_id, TaskRow.assignee_id.is_not(None))
        .order_by(TaskRow.id)
    ).all()
    if not tasks:
        raise RuntimeError("the project has no assigned task to store history in")
    end = utcnow() - timedelta(hours=1)
    rows = []
    for index in range(count):
        task_id, user_id, scene_id = tasks[index % len(tasks)]
        beat = index // len(tasks)  # the how-many-th heartbeat of this person, newest first
        work_session, within = divmod(beat, SESSION_HEARTBEATS)
        at = end - timedelta(hours=4 * work_session, seconds=HEARTBEAT_SECONDS * within)
        rows.append(
            {
                "at": at,
                "user_id": user_id,
                "kind": "heartbeat",
                "project_id": project_id,
                "scene_id": scene_id,
                "task_id": task_id,
                "payload": {"interval_s": HEARTBEAT_SECONDS},
            }
        )
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(EventRow), rows[start : start + INSERT_BATCH])


def build_world(
    factory: sessionmaker[Session],
    blobs: BlobStore,
    data_dir: Path,
    *,
    annotators: int,
    managers: int,
    editors: int,
    history_events: int,
) -> SseWorld:
    """The benchmark's project with ``annotators`` + ``managers`` people, each with a dashboard token."""
    data = prepare(factory, blobs, data_dir, annotators, editors)
    with factory.begin() as s:
        project_id = s.scalars(select(Project.id).where(Project.name == "bench")).one()
        admin = accounts.actor_of(accounts.get_user_by_name(s, "bench-admin"))
        manager_names = [f"manager{index:02d}" for index in range(managers)]
        for name in manager_names:
            accounts.create_user(s, name, None)
            projects.set_member(s, admin, project_id, name, Role.MANAGER)
        annotator_names = list(
            s.scalars(select(User.name).where(User.name.startswith("annotator")).order_by(User.name))
        )
        viewers = _tokens(s, annotator_names, Role.ANNOTATOR) + _tokens(s, manager_names, Role.MANAGER)
        _store_history(s, project_id, history_events)
    return SseWorld(project_id, viewers, data.tracks, history_events)
