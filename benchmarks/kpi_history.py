"""A synthetic but realistic KPI history for the KPI query benchmark (set up once, not timed).

One project with ``people`` annotators, a manager and a reviewer on the bundled KITTI tracking scene.
Every annotator has ``tasks_per_person`` annotate tasks, each in its own layer with confirmed tracks of
the KITTI classes (inserted in bulk), submitted through the services. Then ``events`` events are
written in bulk over ``days`` days before ``end``: each person works sessions of events 2-20 s apart
(sometimes a pause longer than the idle threshold), on their tasks, mostly on tracks, with the event
kinds the editor records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts, projects, tasks
from labelpilot.services.accounts import actor_of
from labelpilot.services.actors import SYSTEM, Role
from labelpilot.services.scene_import import import_scene
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import EventRow, LayerRow, TrackRow, User

KINDS = (
    ("keyframe_set", 0.35),
    ("frame_viewed", 0.2),
    ("heartbeat", 0.15),
    ("track_created", 0.05),
    ("candidate_confirmed", 0.08),
    ("candidate_rejected", 0.05),
    ("size_set", 0.05),
    ("guidance_item_opened", 0.04),
    ("nudge_shown", 0.02),
    ("nudge_followed", 0.01),
)
ON_TRACKS = {
    "keyframe_set",
    "track_created",
    "candidate_confirmed",
    "size_set",
    "nudge_shown",
    "nudge_followed",
}
CLASSES = ("Car", "Car", "Car", "Pedestrian", "Cyclist", "Van")
TRACKS_PER_TASK = 12
CHUNK = 50_000


@dataclass(frozen=True)
class History:
    project_id: int
    manager_id: int
    annotator_ids: list[int]
    tasks: dict[int, list[int]]
    """annotator -> task ids"""
    tracks: dict[int, list[int]]
    """task -> track ids"""


def _people(
    db: sessionmaker[Session], blobs: BlobStore, sample: Path, people: int, tasks_per_person: int
) -> History:
    with db.begin() as s:
        project = projects.create_project(s, SYSTEM, "kpi bench")
        scene = import_scene(s, blobs, SYSTEM, project.id, "kitti-tracking", sample, "0001", name="kpi bench")
        manager = accounts.create_user(s, "kpi-manager", None)
        projects.set_member(s, SYSTEM, project.id, "kpi-manager", Role.MANAGER)
        names = [f"kpi-annotator-{n:03d}" for n in range(people)]
        for name in names:
            accounts.create_user(s, name, None)
            projects.set_member(s, SYSTEM, project.id, name, Role.ANNOTATOR)
        project_id, scene_id, manager_id = project.id, scene.id, manager.id
    task_ids: dict[int, list[int]] = {}
    track_ids: dict[int, list[int]] = {}
    rng = random.Random(7)
    for name in names:
        with db.begin() as s:
            actor = actor_of(accounts.get_user_by_name(s, name))
            own = [
                tasks.create_task(s, SYSTEM, project_id, scene_id, "annotate", f"{name}-{n}", name).id
                for n in range(tasks_per_person)
            ]
            for task_id in own:
                tasks.start_task(s, actor, task_id)
                layer_id = s.scalar(
                    select(LayerRow.id).where(LayerRow.name == f"{name}-{own.index(task_id)}")
                )
                rows = [
                    {
                        "layer_id": layer_id,
                        "key": str(k),
                        "label": rng.choice(CLASSES),
                        "size": [4.0, 1.8, 1.5],
                        "first_frame": (first := rng.randrange(0, 300)),
                        "last_frame": first + rng.randrange(5, 140),
                        "absent_frames": [],
                        "frame_attributes": {},
                        "provenance_kind": rng.choice(("candidate", "candidate", "manual")),
                        "status": "confirmed",
                        "stationary_pose": [1.0, 0, 0, 5.0, 0, 1.0, 0, 2.0, 0, 0, 1.0, 0.8]
                        if k % 4 == 0
                        else None,
                    }
                    for k in range(TRACKS_PER_TASK)
                ]
                track_ids[task_id] = list(s.scalars(insert(TrackRow).returning(TrackRow.id), rows))
            task_ids[actor.user_id] = own
    return History(project_id, manager_id, list(task_ids), task_ids, track_ids)


def _event_rows(
    history: History, events: int, days: int, end: datetime, idle_seconds: float
) -> list[dict[str, object]]:
    rng = random.Random(11)
    kinds, weights = zip(*KINDS, strict=True)
    per_person = events // len(history.annotator_ids)
    rows: list[dict[str, object]] = []
    start = end - timedelta(days=days)
    for user_id in history.annotator_ids:
        at = start + timedelta(seconds=rng.uniform(0, 3600))
        own_tasks = history.tasks[user_id]
        task_id = own_tasks[0]
        span = (end - at).total_seconds() / per_person  # spread the person's events over the period
        for n in range(per_person):
            pause = rng.random() < 0.02
            at += timedelta(seconds=rng.uniform(idle_seconds, 2 * span) if pause else rng.uniform(2, 20))
            if n % (per_person // len(own_tasks) + 1) == 0:
                task_id = own_tasks[min(n * len(own_tasks) // per_person, len(own_tasks) - 1)]
            kind = rng.choices(kinds, weights)[0]
            rows.append(
                {
                    "at": min(at, end),
                    "user_id": user_id,
                    "project_id": history.project_id,
                    "task_id": task_id,
                    "track_id": rng.choice(history.tracks[task_id]) if kind in ON_TRACKS else None,
                    "kind": kind,
                    "payload": {},
                }
            )
    return rows


def make_history(
    db: sessionmaker[Session],
    blobs: BlobStore,
    sample: Path,
    *,
    people: int,
    tasks_per_person: int,
    events: int,
    days: int,
    end: datetime,
    idle_seconds: float,
) -> History:
    history = _people(db, blobs, sample, people, tasks_per_person)
    rows = _event_rows(history, events, days, end, idle_seconds)
    for offset in range(0, len(rows), CHUNK):
        with db.begin() as s:
            s.execute(insert(EventRow), rows[offset : offset + CHUNK])
    for user_id, own in history.tasks.items():
        with db.begin() as s:
            actor = actor_of(s.get_one(User, user_id))
            for task_id in own:
                tasks.submit_task(s, actor, task_id)
    return history
