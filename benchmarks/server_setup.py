"""The data the server benchmark works on, set up through the services (not timed).

One project with a manager and ``annotators`` annotators, each with a personal API token and an
annotate task in progress on the KITTI tracking scene. The longest tracker candidates of that
scene are confirmed into the ``work`` layer through those tasks, so that every annotator edits
confirmed tracks exactly as the editor would. The KITTI odometry demo drive is imported too, for
the frame endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts, projects, scenes, tasks, track_edits
from labelpilot.services.actors import Actor, Role
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import LayerRow, TrackRow

ODOMETRY_DIR = "kitti-odometry-00-demo"
TRACKING_DIR = "kitti-tracking"
TRACKING_SEQUENCE = "0001"
TRACKER_LAYER = "auto:pointrcnn_Car_hailanyi"
"""The tracker output of the sequence: candidates with lives of up to 100 frames."""
WORK_LAYER = "work"


@dataclass
class EditTrack:
    """A confirmed track one client edits, with what the client needs to send a valid edit."""

    track_id: int
    version: int
    keyframes: dict[int, list[float]]
    token: str
    task_id: int
    life: int
    annotator: str
    answered_ok: int = 0
    """Edits answered 200: the stored version must end at the confirmed version plus this."""
    confirmed_version: int = field(init=False)

    def __post_init__(self) -> None:
        self.confirmed_version = self.version


@dataclass(frozen=True)
class BenchData:
    admin_token: str
    odometry_scene_id: int
    odometry_frames: int
    tracking_scene_id: int
    tracks: list[EditTrack]
    shared_token: str
    """A second token of the first annotator: every client of the 'one token' run sends it."""
    shared_task_id: int


def _annotators(session: Session, admin: Actor, project_id: int, count: int) -> list[tuple[Actor, str]]:
    out = []
    for index in range(count):
        name = f"annotator{index:02d}"
        user = accounts.create_user(session, name, f"{name}-password")
        projects.set_member(session, admin, project_id, name, Role.ANNOTATOR)
        out.append((accounts.actor_of(user), accounts.create_api_token(session, user, "bench")))
    return out


def _longest_candidates(session: Session, scene_id: int, count: int) -> list[TrackRow]:
    layer = session.scalar(
        select(LayerRow).where(LayerRow.scene_id == scene_id, LayerRow.name == TRACKER_LAYER)
    )
    if layer is None:
        raise RuntimeError(f"the imported scene has no {TRACKER_LAYER} layer")
    rows = list(
        session.scalars(
            select(TrackRow)
            .where(TrackRow.layer_id == layer.id)
            .order_by((TrackRow.last_frame - TrackRow.first_frame).desc(), TrackRow.id)
            .limit(count)
        )
    )
    if len(rows) < count:
        raise RuntimeError(f"{TRACKER_LAYER} has {len(rows)} candidates, the benchmark needs {count}")
    return rows


def _confirmed(result: Any, token: str, task_id: int, annotator: str) -> EditTrack:
    track = result.track
    return EditTrack(
        track_id=int(track["id"]),
        version=int(track["version"]),
        keyframes={int(frame): list(pose) for frame, pose in track["keyframes"].items()},
        token=token,
        task_id=task_id,
        life=int(track["last_frame"]) - int(track["first_frame"]) + 1,
        annotator=annotator,
    )


def prepare(
    factory: sessionmaker[Session], blobs: BlobStore, data_dir: Path, annotators: int, tracks: int
) -> BenchData:
    """Import both scenes and hand ``tracks`` confirmed tracks round-robin to the annotators."""
    with factory.begin() as s:
        admin_user = accounts.create_user(s, "bench-admin", "bench-admin-password", is_admin=True)
        admin = accounts.actor_of(admin_user)
        admin_token = accounts.create_api_token(s, admin_user, "bench")
        project_id = projects.create_project(s, admin, "bench").id
        odometry = scenes.import_scene(s, blobs, admin, project_id, "kitti-odometry", data_dir / ODOMETRY_DIR)
        tracking = scenes.import_scene(
            s, blobs, admin, project_id, "kitti-tracking", data_dir / TRACKING_DIR, TRACKING_SEQUENCE
        )
        odometry_id, odometry_frames, tracking_id = odometry.id, odometry.frame_count, tracking.id
        people = _annotators(s, admin, project_id, annotators)
        shared_token = accounts.create_api_token(s, accounts.get_user_by_name(s, people[0][0].name), "shared")
    task_ids = []
    with factory.begin() as s:
        for actor, _token in people:
            task = tasks.create_task(
                s, admin, project_id, tracking_id, "annotate", WORK_LAYER, assignee=actor.name
            )
            task_ids.append(tasks.start_task(s, actor, task.id).id)
    edit_tracks = []
    with factory.begin() as s:
        for index, candidate in enumerate(_longest_candidates(s, tracking_id, tracks)):
            slot = index % annotators
            actor, token = people[slot]
            result = track_edits.confirm_candidate(
                s, actor, candidate.id, candidate.version, task_id=task_ids[slot]
            )
            edit_tracks.append(_confirmed(result, token, task_ids[slot], actor.name))
    return BenchData(
        admin_token=admin_token,
        odometry_scene_id=odometry_id,
        odometry_frames=odometry_frames,
        tracking_scene_id=tracking_id,
        tracks=edit_tracks,
        shared_token=shared_token,
        shared_task_id=task_ids[0],
    )
