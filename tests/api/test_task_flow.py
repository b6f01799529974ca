"""A task's life over HTTP with real logins, and two people editing one track at the same moment."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.scenes import Scene
from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.store.tables import EventRow
from labelpilot.tracks import Track, world_shapes
from tests.api.api_helpers import (
    KITTI_ROOT,
    TRACKER_LAYER,
    ApiTeam,
    blobs_of,
    make_api_team,
    password_of,
    sequence_files,
)
from tests.api.conftest import Login, login

SEQUENCE = "0000"
ROUNDS = 5

LoginAs = Callable[[str], Login]


@pytest.fixture
def domain() -> Scene:
    # The detections are a layer of their own; the layers used here read the same without them.
    return read_scene("kitti-tracking", KITTI_ROOT, SEQUENCE)


@pytest.fixture
def team(db_factory: sessionmaker[Session]) -> ApiTeam:
    return make_api_team(db_factory, passwords=("meg", "ann", "rita"))


@pytest.fixture
def scene_id(api_app: FastAPI, db_factory: sessionmaker[Session], team: ApiTeam, tmp_path: Path) -> int:
    """The sequence with ground truth and tracker candidates (its 1,800 one-frame detections are not needed)."""
    root = tmp_path / "kitti"
    for path in sequence_files(KITTI_ROOT, SEQUENCE):
        if path.relative_to(KITTI_ROOT).parts[0] != "detections":
            (root / path.relative_to(KITTI_ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, root / path.relative_to(KITTI_ROOT))
    with db_factory.begin() as s:
        row = scenes.import_scene(
            s, blobs_of(api_app), SYSTEM, team.project_id, "kitti-tracking", root, SEQUENCE
        )
    return row.id


@pytest.fixture
def login_as(api_app: FastAPI) -> Iterator[LoginAs]:
    """Each call logs a user in on a TestClient of their own (own cookie jar), as separate browsers would."""
    with ExitStack() as stack:

        def open_session(name: str) -> Login:
            return login(stack.enter_context(TestClient(api_app)), name, password_of(name))

        yield open_session


def _ok(response: httpx2.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _post(who: Login, url: str, body: dict[str, Any]) -> httpx2.Response:
    return who.client.post(url, json=body, headers=who.headers())


def _longest_candidate(domain: Scene) -> Track:
    return max(domain.layer(TRACKER_LAYER).tracks, key=lambda t: len(t.frames()))


def _candidate_id(who: Login, scene: int, candidate: Track) -> int:
    """The stored id of a tracker candidate, found the way the editor finds it: in a frame's shapes."""
    shapes = who.client.get(
        f"/api/scenes/{scene}/frames/{candidate.first_frame}/shapes", params={"layer": TRACKER_LAYER}
    ).json()
    (found,) = [s for s in shapes if s["key"] == candidate.track_id]
    assert found["status"] == "candidate" and found["version"] == 1
    return int(found["track_id"])


def _assert_shapes_of(result: dict[str, Any], track: Track) -> None:
    expected = world_shapes(track)
    assert result["shapes"]["frames"] == expected.frames.tolist() == track.frames()
    np.testing.assert_allclose(result["shapes"]["centers"], expected.cuboids.centers, atol=1e-9)
    np.testing.assert_allclose(result["shapes"]["sizes"], expected.cuboids.sizes, atol=1e-12)


def test_a_task_from_queue_to_acceptance(
    login_as: LoginAs, db_factory: sessionmaker[Session], team: ApiTeam, scene_id: int, domain: Scene
) -> None:
    meg, ann = login_as("meg"), login_as("ann")
    created = _ok(
        _post(meg, f"/api/projects/{team.project_id}/tasks", {"scene_id": scene_id, "assignee": "ann"}), 201
    )
    assert (created["state"], created["assignee"], created["layer"], created["version"]) == (
        "queued", "ann", "work", 1,
    )  # fmt: skip
    task_id = created["id"]
    assert _ok(_post(ann, "/api/tasks/next", {"project_id": team.project_id}))["id"] == task_id
    started = _ok(_post(ann, f"/api/tasks/{task_id}/start", {"expected_version": 1}))
    assert (started["state"], started["version"]) == ("in_progress", 2)

    candidate = _longest_candidate(domain)
    candidate_id = _candidate_id(ann, scene_id, candidate)
    confirmed = _ok(
        _post(ann, f"/api/tracks/{candidate_id}/confirm", {"expected_version": 1, "task_id": task_id})
    )
    track = confirmed["track"]
    layers = {layer["name"]: layer["id"] for layer in ann.client.get(f"/api/scenes/{scene_id}/layers").json()}
    assert track["layer_id"] == layers["work"] and track["id"] != candidate_id
    assert track["provenance"] == {"kind": "candidate", "source": TRACKER_LAYER}
    assert (track["status"], track["version"], track["label"]) == ("confirmed", 1, candidate.label)
    assert confirmed["candidate"]["status"] == "confirmed" and confirmed["candidate"]["version"] == 2
    _assert_shapes_of(confirmed, candidate)

    frame = candidate.frames()[len(candidate.frames()) // 2]
    shifted = [float(v) for v in np.asarray(confirmed["shapes"]["centers"][candidate.frames().index(frame)])]
    shifted[0] += 0.5
    keyed = _ok(
        ann.client.put(
            f"/api/tracks/{track['id']}/keyframes/{frame}",
            json={"expected_version": 1, "pose": {"center": shifted, "yaw": 0.25}, "task_id": task_id},
            headers=ann.headers(),
        )
    )
    assert keyed["track"]["version"] == 2
    at_frame = keyed["shapes"]["frames"].index(frame)
    np.testing.assert_allclose(keyed["shapes"]["centers"][at_frame], shifted, atol=1e-9)
    assert keyed["shapes"]["yaws"][at_frame] == pytest.approx(0.25)

    still = _ok(
        _post(ann, f"/api/tracks/{track['id']}/stationary", {"expected_version": 2, "task_id": task_id})
    )
    assert still["track"]["stationary"] is True and still["track"]["version"] == 3
    assert still["track"]["keyframes"] == {}
    centers = np.asarray(still["shapes"]["centers"])
    assert len(centers) == len(candidate.frames()) and np.allclose(centers, centers[0])

    stale = ann.client.patch(
        f"/api/tracks/{track['id']}",
        json={"expected_version": 2, "label": "Van", "task_id": task_id},
        headers=ann.headers(),
    )
    assert stale.status_code == 409, stale.text
    assert stale.json()["current"] == still["track"] and "version 3" in stale.json()["error"]

    submitted = _ok(_post(ann, f"/api/tasks/{task_id}/submit", {"expected_version": 2}))
    assert (submitted["state"], submitted["version"]) == ("submitted", 3)
    late = ann.client.patch(
        f"/api/tracks/{track['id']}",
        json={"expected_version": 3, "label": "Van", "task_id": task_id},
        headers=ann.headers(),
    )
    assert late.status_code == 403 and "submitted" in late.json()["error"]  # handed in: no more edits

    rita = login_as("rita")
    accepted = _ok(_post(rita, f"/api/tasks/{task_id}/review", {"accept": True, "comment": "well measured"}))
    assert (accepted["state"], accepted["version"], accepted["assignee"]) == ("accepted", 4, "ann")
    assert _ok(ann.client.get(f"/api/tasks/{task_id}"))["state"] == "accepted"
    with db_factory.begin() as s:
        kinds = s.scalars(
            select(EventRow.kind).where(EventRow.task_id == task_id).order_by(EventRow.id)
        ).all()
    assert list(kinds) == [
        "task_created",
        "task_started",
        "candidate_confirmed",
        "keyframe_set",
        "track_made_stationary",
        "task_submitted",
        "task_accepted",
    ]


def _patch(who: Login, url: str, body: dict[str, Any]) -> Callable[[], httpx2.Response]:
    return lambda: who.client.patch(url, json=body, headers=who.headers())


def _race(requests: list[Callable[[], httpx2.Response]]) -> list[httpx2.Response]:
    """Send the requests from one thread each, released at the same moment."""
    barrier = threading.Barrier(len(requests))
    responses: list[httpx2.Response | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            responses[index] = requests[index]()
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


def test_two_people_editing_one_track_at_once_exactly_one_wins(
    login_as: LoginAs, db_factory: sessionmaker[Session], scene_id: int, domain: Scene
) -> None:
    meg, rita = login_as("meg"), login_as("rita")
    candidate = _longest_candidate(domain)
    copy = _ok(
        _post(meg, f"/api/tracks/{_candidate_id(meg, scene_id, candidate)}/confirm", {"expected_version": 1})
    )["track"]
    version = copy["version"]
    for round_number in range(ROUNDS):
        sizes = [[4.0 + round_number / 10, 1.8 + i / 10, 1.5] for i in range(2)]
        editors = [meg, rita]
        responses = _race(
            [
                _patch(who, f"/api/tracks/{copy['id']}", {"expected_version": version, "size": size})
                for who, size in zip(editors, sizes, strict=True)
            ]
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        won, refused = responses[winner].json()["track"], responses[1 - winner].json()
        assert won["version"] == version + 1 and won["size"] == sizes[winner]
        # The loser is told the state the winner left: nothing of its own edit landed, nothing was lost.
        assert refused["current"] == won
        shapes = meg.client.get(
            f"/api/scenes/{scene_id}/frames/{candidate.first_frame}/shapes", params={"layer": "work"}
        ).json()
        (now,) = [s for s in shapes if s["track_id"] == copy["id"]]
        assert now["version"] == version + 1 and now["world"]["size"] == sizes[winner]
        version += 1
    assert version == copy["version"] + ROUNDS
    with db_factory.begin() as s:
        kinds = s.scalars(select(EventRow.kind).where(EventRow.track_id == copy["id"])).all()
    assert sorted(kinds) == sorted(["candidate_confirmed", *["track_updated"] * ROUNDS])
