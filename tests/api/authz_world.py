"""The world the authorization matrix runs in: a real scene, a team, and fresh objects for each request.

Requests that change state (confirm a candidate, submit a task, ...) get a fresh target for every
role, made through the services as the system, so that no cell of the matrix depends on another.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.services import accounts, scenes, tasks
from labelpilot.services.actors import SYSTEM, Actor
from labelpilot.services.track_edit_store import ensure_layer, insert_track
from labelpilot.store.tables import LayerRow, TrackRow
from labelpilot.tracks import Keyframed, Provenance, Stationary, Track, TrackStatus
from tests.api.api_helpers import ApiTeam, blobs_of, make_api_team
from tests.conftest import SAMPLE

SUSTECH = SAMPLE / "sustechpoints"
"""Lidar, three cameras and ground truth in 3 frames: every payload route has something to serve."""
CANDIDATE_LAYER = "auto:sample"
MOT_FILE = SAMPLE / "mot" / "TUD-Campus" / "gt.txt"
"""A small real file to upload (a MOT ground-truth file imports as a camera-only scene)."""


@dataclass(frozen=True)
class Req:
    method: str
    url: str
    json: Any = None
    params: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None


@dataclass
class World:
    team: ApiTeam
    db: sessionmaker[Session]
    scene_id: int
    ann_task: int
    """ann's annotate task on the scene, in progress on layer "work" (abe has no task at all)."""
    source: Track
    """A real ground-truth track of the scene; fresh tracks and candidates are copies of it."""
    ground_truth_track: int
    numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def project_id(self) -> int:
        return self.team.project_id

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.numbers)}"

    def actor(self, name: str) -> Actor:
        with self.db.begin() as s:
            return accounts.actor_of(accounts.get_user_by_name(s, name))

    def version(self, track_id: int) -> int:
        with self.db.begin() as s:
            row = s.get(TrackRow, track_id)
            assert row is not None
            return row.version

    def _insert(self, track: Track, layer: str) -> int:
        with self.db.begin() as s:
            return insert_track(s, track, ensure_layer(s, self.scene_id, layer).id)

    def work_track(self, *, stationary: bool = False, last_frame: int | None = None) -> int:
        """A confirmed manual copy of the source track in the work layer (keyframed or stationary),
        its life cut at ``last_frame`` if given."""
        track = dataclasses.replace(
            self.source, track_id=self.unique("work"), provenance=Provenance("manual")
        )
        assert isinstance(track.motion, Keyframed)
        if last_frame is not None:
            keys = {f: p for f, p in track.motion.keyframes.items() if f <= last_frame}
            track = dataclasses.replace(track, motion=Keyframed(keys), last_frame=last_frame)
            assert isinstance(track.motion, Keyframed)
        if stationary:
            first = next(iter(track.motion.keyframes.values()))
            track = dataclasses.replace(track, motion=Stationary(first))
        return self._insert(track, "work")

    def candidate(self) -> int:
        track = dataclasses.replace(
            self.source,
            track_id=self.unique("candidate"),
            provenance=Provenance("candidate", CANDIDATE_LAYER),
            status=TrackStatus.CANDIDATE,
        )
        return self._insert(track, CANDIDATE_LAYER)

    def task(self, state: str) -> int:
        """A fresh annotate task of ann on the scene, brought to ``state`` by the people who would."""
        ann = self.actor("ann")
        with self.db.begin() as s:
            view = tasks.create_task(s, SYSTEM, self.project_id, self.scene_id, "annotate", assignee="ann")
            if state in ("in_progress", "submitted"):
                view = tasks.start_task(s, ann, view.id)
            if state == "submitted":
                view = tasks.submit_task(s, ann, view.id)
            assert view.state == state
            return view.id


def make_world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    team = make_api_team(db_factory)
    domain = read_scene("sustechpoints", SUSTECH)
    source = max(domain.layer("ground_truth").tracks, key=lambda t: len(t.frames()))
    with db_factory.begin() as s:
        scene_id = scenes.import_scene(
            s, blobs_of(api_app), SYSTEM, team.project_id, "sustechpoints", SUSTECH
        ).id
        ground_truth = s.scalar(
            select(TrackRow.id)
            .join(LayerRow, LayerRow.id == TrackRow.layer_id)
            .where(
                LayerRow.scene_id == scene_id,
                LayerRow.name == "ground_truth",
                TrackRow.key == source.track_id,
            )
        )
    assert ground_truth is not None
    world = World(team, db_factory, scene_id, 0, source, ground_truth)
    world.ann_task = world.task("in_progress")
    return world
