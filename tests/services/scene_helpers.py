"""Shared set-up for the scene service tests: a project with members, and row counts of a scene."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelpilot.formats import read_scene
from labelpilot.scenes import Scene
from labelpilot.services import accounts, projects
from labelpilot.services.actors import Actor, Role
from labelpilot.store.tables import (
    FrameRow,
    KeyframeRow,
    LayerRow,
    SceneRow,
    SensorRow,
    TaskRow,
    Track2DRow,
    TrackRow,
)

KITTI_SEQUENCE = "0001"


@dataclass(frozen=True)
class Team:
    project_id: int
    manager: Actor
    reviewer: Actor
    annotator: Actor
    other_annotator: Actor
    outsider: Actor


def make_team(session: Session) -> Team:
    """A project with a manager, a reviewer, two annotators, and a user who is not a member."""
    admin = accounts.actor_of(accounts.create_user(session, "root", "password-0", is_admin=True))
    project = projects.create_project(session, admin, "streets")
    members: dict[str, Actor] = {}
    for name, role in [
        ("meg", Role.MANAGER),
        ("rey", Role.REVIEWER),
        ("ann", Role.ANNOTATOR),
        ("ned", Role.ANNOTATOR),
    ]:
        members[name] = accounts.actor_of(accounts.create_user(session, name, f"password-{name}"))
        projects.set_member(session, admin, project.id, name, role)
    outsider = accounts.actor_of(accounts.create_user(session, "otto", "password-otto"))
    return Team(project.id, members["meg"], members["rey"], members["ann"], members["ned"], outsider)


def assign_task(session: Session, project_id: int, scene_id: int, assignee: Actor) -> None:
    session.add(
        TaskRow(
            project_id=project_id,
            scene_id=scene_id,
            kind="annotate",
            state="queued",
            assignee_id=assignee.user_id,
        )
    )
    session.flush()


def table_counts(session: Session) -> dict[str, int]:
    """Rows in every scene-related table (for 'nothing was left behind' checks)."""
    tables = [SceneRow, SensorRow, FrameRow, LayerRow, TrackRow, KeyframeRow, Track2DRow]
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables}


def blob_files(root: Path) -> list[Path]:
    """Finished blobs under a local blob store root (ignores nothing: partial files count too)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def kitti_label_lines(sample_dir: Path) -> list[list[str]]:
    """The ground-truth label file of the sample sequence, split into fields."""
    path = sample_dir / "kitti-tracking" / "training" / "label_02" / f"{KITTI_SEQUENCE}.txt"
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


@functools.cache
def kitti_domain(sample_dir: Path) -> Scene:
    """The sample KITTI sequence read straight from the files (read once: tests only look at it)."""
    return read_scene("kitti-tracking", sample_dir / "kitti-tracking", KITTI_SEQUENCE)
