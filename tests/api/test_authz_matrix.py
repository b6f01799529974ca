"""Who may call what: every route of the API against every kind of caller, as one table.

The expected outcome of each cell comes from the documented rules (services/actors.py,
scene_access.py, tasks.py, track_edit_store.py), written once below as rules:

- Anyone without credentials gets 401 (but for the health check and the login page); the browser pages
  `/` and `/editor` send them to the login page (303) instead.
- Only administrators create projects. Administrators act in every project without being members.
- A non-member is told that the project (and so its scenes and tasks) does not exist: 404.
- Staff (reviewer, coach, manager) see every scene and task of their projects; an annotator sees only
  the scenes of their tasks (404 for the others, so names do not leak) and only their own tasks (403).
- Managers import scenes, create and assign tasks, and set members; other members get 403.
- Only the assignee starts and submits a task (an admin is not the assignee either); reviewers and
  managers review it.
- Only the assignee records the editor's events of a task (nudges shown, heartbeats, ...).
- Reviewers, managers and admins edit any layer but ground_truth without a task; an annotator edits
  only within their task in progress (and confirms, rejects or reopens its scene's candidates); a coach
  does not edit. Whoever sees a scene may ask the check key which frame of one of its tracks to look at,
  and the end search where one's life ends.
- ground_truth is read-only for everyone but administrators.
- Managers and admins run automation on a scene and estimate or switch its ego poses (others who see it
  get 403); whoever sees a scene sees its guidance (a track's proposed life too), its stationary review and its
  ego poses, and whoever sees a task its nudges.
- Members and admins see (and stream) their own KPIs in a project; staff and admins see the team's;
  managers and admins change the project's settings.

There is no export route yet; when one is added, the coverage test below fails until it has a row
(rule: staff-only, like the service's export).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services.actors import SYSTEM
from labelpilot.services.track_candidates import reject_candidate
from tests.api.authz_world import MOT_FILE, Req, World, make_world

ANONYMOUS = "anonymous"
CALLERS = (ANONYMOUS, "ann", "abe", "rita", "cora", "meg", "otto", "root")
"""ann: annotator with a task on the scene; abe: annotator without one; rita: reviewer; cora: coach;
meg: manager; otto: not a member; root: administrator, not a member."""
MEMBERS = ("ann", "abe", "rita", "cora", "meg")
STAFF = ("rita", "cora", "meg")

Expected = dict[str, int]


def rule(ok: int, allowed: Iterable[str], *, hidden_from: Iterable[str] = ("otto",)) -> Expected:
    """``ok`` for the allowed callers, 404 for those the object is hidden from, 403 for the other
    logged-in callers and 401 without credentials."""
    allowed, hidden = set(allowed), set(hidden_from)
    return {
        caller: 401 if caller == ANONYMOUS else ok if caller in allowed else 404 if caller in hidden else 403
        for caller in CALLERS
    }


OPEN = dict.fromkeys(CALLERS, 200)


def logged_in(ok: int) -> Expected:
    return rule(ok, CALLERS[1:], hidden_from=())


ADMINS_ONLY = rule(201, ["root"], hidden_from=())
MEMBERS_READ = rule(200, [*MEMBERS, "root"])
MANAGERS = rule(200, ["meg", "root"])
IMPORTERS = rule(201, ["meg", "root"])
TASK_CREATORS = rule(201, ["meg", "root"])
SCENE_READERS = rule(200, [*STAFF, "root", "ann"], hidden_from=("otto", "abe"))
TASK_READERS = rule(200, [*STAFF, "root", "ann"])
ASSIGNEE = rule(200, ["ann"])
REVIEWERS = rule(200, ["rita", "meg", "root"])
EDITORS = rule(200, ["rita", "meg", "root", "ann"])
TRACK_CREATORS = rule(201, ["rita", "meg", "root", "ann"])
GROUND_TRUTH_EDITORS = rule(200, ["root"])
GROUND_TRUTH_CREATORS = rule(201, ["root"])
AUTOMATION_RUNNERS = rule(200, ["meg", "root"], hidden_from=("otto", "abe"))
STAFF_READ = rule(200, [*STAFF, "root"])
# Everyone with a role gets their next task: ann has one (200); the others have none to take (204).
NEXT_TASK = {**rule(204, [*MEMBERS, "root"]), "ann": 200}
PAGE = {**logged_in(200), ANONYMOUS: 303}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    """The route as the OpenAPI schema names it."""
    expected: Expected
    make: Callable[[World], Req]
    case: str = ""


ONE_KEYFRAME = {"0": {"center": [1.0, 2.0, 0.5], "yaw": 0.3}}
TWO_KEYFRAMES = {"1": {"center": [1.0, 2.0, 0.5], "yaw": 0.1}, "2": {"center": [2.0, 3.0, 0.5], "yaw": 0.2}}


def _edit(w: World, track_id: int, **body: object) -> dict[str, object]:
    return {"expected_version": w.version(track_id), "task_id": w.ann_task, **body}


def _query(w: World, track_id: int) -> dict[str, object]:
    return {"expected_version": w.version(track_id), "task_id": w.ann_task}


def _rejected_candidate(w: World) -> int:
    """A fresh candidate, rejected by the system: one to reopen."""
    track_id = w.candidate()
    version = w.version(track_id)
    with w.db.begin() as s:
        reject_candidate(s, SYSTEM, track_id, version)
    return track_id


def _batch(w: World, track_ids: list[int]) -> dict[str, object]:
    tracks = [{"id": t, "expected_version": w.version(t)} for t in track_ids]
    return {"tracks": tracks, "task_id": w.ann_task}


SCENE = "/api/scenes/{scene_id}"
FRAME = SCENE + "/frames/{frame_index}"
TRACK = "/api/tracks/{track_id}"

ROWS: list[Row] = [
    # the browser pages: a shell for anyone logged in; anyone else is sent to the login page
    Row("GET", "/", PAGE, lambda w: Req("GET", "/")),
    Row("GET", "/login", OPEN, lambda w: Req("GET", "/login")),
    Row("GET", "/editor", PAGE, lambda w: Req("GET", "/editor", params={"task": w.ann_task})),
    Row("GET", "/api/health", OPEN, lambda w: Req("GET", "/api/health")),
    Row("GET", "/api/auth/me", logged_in(200), lambda w: Req("GET", "/api/auth/me")),
    Row("POST", "/api/auth/logout", logged_in(204), lambda w: Req("POST", "/api/auth/logout")),
    Row("POST", "/api/tokens", logged_in(201), lambda w: Req("POST", "/api/tokens", {"name": "script"})),
    # projects
    Row("GET", "/api/projects", logged_in(200), lambda w: Req("GET", "/api/projects")),
    Row("POST", "/api/projects", ADMINS_ONLY, lambda w: Req("POST", "/api/projects", {"name": w.unique("p")})),
    Row("GET", "/api/projects/{project_id}", MEMBERS_READ, lambda w: Req("GET", f"/api/projects/{w.project_id}")),
    Row(
        "GET",
        "/api/projects/{project_id}/size-priors",
        MEMBERS_READ,
        lambda w: Req("GET", f"/api/projects/{w.project_id}/size-priors"),
    ),
    Row(
        "GET", "/api/projects/{project_id}/members", MEMBERS_READ,
        lambda w: Req("GET", f"/api/projects/{w.project_id}/members"),
    ),
    Row(
        "PUT", "/api/projects/{project_id}/members/{user_name}", MANAGERS,
        lambda w: Req("PUT", f"/api/projects/{w.project_id}/members/abe", {"role": "annotator"}),
    ),
    Row(
        "PATCH", "/api/projects/{project_id}/members/{user_name}", MANAGERS,
        lambda w: Req("PATCH", f"/api/projects/{w.project_id}/members/abe", {"hourly_cost_eur": 30}),
    ),
    # scenes
    Row(
        "GET", "/api/projects/{project_id}/scenes", MEMBERS_READ,
        lambda w: Req("GET", f"/api/projects/{w.project_id}/scenes"),
    ),
    Row(
        "POST", "/api/projects/{project_id}/scenes/upload", IMPORTERS,
        lambda w: Req(
            "POST", f"/api/projects/{w.project_id}/scenes/upload",
            files={"archive": ("gt.txt", MOT_FILE.read_bytes(), "text/plain")}, data={"format": "mot"},
        ),
    ),
    Row("GET", SCENE, SCENE_READERS, lambda w: Req("GET", f"/api/scenes/{w.scene_id}")),
    Row("GET", SCENE + "/frames", SCENE_READERS, lambda w: Req("GET", f"/api/scenes/{w.scene_id}/frames")),
    Row("GET", SCENE + "/layers", SCENE_READERS, lambda w: Req("GET", f"/api/scenes/{w.scene_id}/layers")),
    Row(
        "GET", SCENE + "/layers/{layer}/tracks", SCENE_READERS,
        lambda w: Req("GET", f"/api/scenes/{w.scene_id}/layers/ground_truth/tracks"),
    ),
    Row("GET", FRAME + "/lidar", SCENE_READERS, lambda w: Req("GET", f"/api/scenes/{w.scene_id}/frames/1/lidar")),
    Row(
        "GET", FRAME + "/images/{camera}", SCENE_READERS,
        lambda w: Req("GET", f"/api/scenes/{w.scene_id}/frames/1/images/front"),
    ),
    Row(
        "GET", FRAME + "/shapes", SCENE_READERS,
        lambda w: Req("GET", f"/api/scenes/{w.scene_id}/frames/1/shapes", params={"layer": "ground_truth"}),
    ),
    # tasks
    Row(
        "GET", "/api/projects/{project_id}/tasks", MEMBERS_READ,
        lambda w: Req("GET", f"/api/projects/{w.project_id}/tasks"),
    ),
    Row(
        "POST", "/api/projects/{project_id}/tasks", TASK_CREATORS,
        lambda w: Req("POST", f"/api/projects/{w.project_id}/tasks", {"scene_id": w.scene_id, "assignee": "ann"}),
    ),
    Row("POST", "/api/tasks/next", NEXT_TASK, lambda w: Req("POST", "/api/tasks/next", {"project_id": w.project_id})),
    Row("GET", "/api/tasks/{task_id}", TASK_READERS, lambda w: Req("GET", f"/api/tasks/{w.ann_task}")),
    Row(
        "POST", "/api/tasks/{task_id}/assign", MANAGERS,
        lambda w: Req("POST", f"/api/tasks/{w.task('queued')}/assign", {"user": "ann"}),
    ),
    Row("POST", "/api/tasks/{task_id}/start", ASSIGNEE, lambda w: Req("POST", f"/api/tasks/{w.task('queued')}/start", {})),
    Row(
        "POST", "/api/tasks/{task_id}/submit", ASSIGNEE,
        lambda w: Req("POST", f"/api/tasks/{w.task('in_progress')}/submit", {}),
    ),
    Row(
        "POST", "/api/tasks/{task_id}/review", REVIEWERS,
        lambda w: Req("POST", f"/api/tasks/{w.task('submitted')}/review", {"accept": True}),
    ),
    Row(
        "POST", "/api/tasks/{task_id}/events", rule(201, ["ann"]),
        lambda w: Req(
            "POST", f"/api/tasks/{w.ann_task}/events", {"kind": "heartbeat", "payload": {"frame": 1, "interval_s": 30}}
        ),
    ),
    # track edits (every request names ann's task; editors without a task may name it too)
    Row(
        "POST", SCENE + "/tracks", TRACK_CREATORS,
        lambda w: Req(
            "POST", f"/api/scenes/{w.scene_id}/tracks",
            {"label": "Car", "size": [4.2, 1.8, 1.5], "keyframes": ONE_KEYFRAME, "task_id": w.ann_task},
        ),
    ),
    Row(
        "POST", SCENE + "/tracks", GROUND_TRUTH_CREATORS,
        lambda w: Req(
            "POST", f"/api/scenes/{w.scene_id}/tracks",
            {"layer": "ground_truth", "label": "Car", "size": [4.2, 1.8, 1.5], "keyframes": ONE_KEYFRAME},
        ),
        case="ground_truth",
    ),
    Row("PATCH", TRACK, EDITORS, lambda w: Req("PATCH", f"/api/tracks/{(t := w.work_track())}", _edit(w, t, label="Van"))),
    Row(
        "PATCH", TRACK, GROUND_TRUTH_EDITORS,
        lambda w: Req("PATCH", f"/api/tracks/{w.ground_truth_track}", _edit(w, w.ground_truth_track, label="Van")),
        case="ground_truth",
    ),
    Row("DELETE", TRACK, EDITORS, lambda w: Req("DELETE", f"/api/tracks/{(t := w.work_track())}", params=_query(w, t))),
    Row(
        "PUT", TRACK + "/keyframes/{frame}", EDITORS,
        lambda w: Req(
            "PUT", f"/api/tracks/{(t := w.work_track())}/keyframes/1",
            _edit(w, t, pose={"center": [1.0, 2.0, 0.5], "yaw": 0.1}),
        ),
    ),
    Row(
        "DELETE", TRACK + "/keyframes/{frame}", EDITORS,
        lambda w: Req("DELETE", f"/api/tracks/{(t := w.work_track())}/keyframes/2", params=_query(w, t)),
    ),
    Row(
        "PUT", TRACK + "/keyframes", EDITORS,
        lambda w: Req(
            "PUT", f"/api/tracks/{(t := w.work_track())}/keyframes",
            _edit(w, t, keyframes=TWO_KEYFRAMES),
        ),
    ),
    Row(
        "PUT", TRACK + "/life", EDITORS,
        lambda w: Req(
            "PUT", f"/api/tracks/{(t := w.work_track())}/life", _edit(w, t, first_frame=0, last_frame=1)
        ),
    ),
    Row(
        "POST", TRACK + "/accept-life", EDITORS,
        lambda w: Req(
            "POST", f"/api/tracks/{(t := w.work_track(last_frame=1))}/accept-life",
            _edit(w, t, first_frame=0, last_frame=2),
        ),
    ),
    Row(
        "POST", TRACK + "/extend", EDITORS,
        lambda w: Req(
            "POST", f"/api/tracks/{(t := w.work_track(last_frame=1))}/extend", _edit(w, t, frame=2)
        ),
    ),
    # A fresh track is keyed at every frame of its life (0..2): the edit that succeeds marks frame 1 visible.
    Row(
        "PUT", TRACK + "/absent", EDITORS,
        lambda w: Req(
            "PUT", f"/api/tracks/{(t := w.work_track())}/absent", _edit(w, t, frames=[1], absent=False)
        ),
    ),
    # the check key reads a track: whoever sees its scene (nothing is written)
    Row(
        "POST", TRACK + "/next-check", SCENE_READERS,
        lambda w: Req(
            "POST", f"/api/tracks/{w.work_track()}/next-check", {"task_id": w.ann_task, "looked": [0], "right": [0]}
        ),
    ),
    # the end search reads a track too (frame 2 is just past the life 0..1: the search closes at once)
    Row(
        "POST", TRACK + "/end-search", SCENE_READERS,
        lambda w: Req(
            "POST", f"/api/tracks/{w.work_track(last_frame=1)}/end-search", {"task_id": w.ann_task, "frame": 2}
        ),
    ),
    Row(
        "POST", TRACK + "/stationary", EDITORS,
        lambda w: Req("POST", f"/api/tracks/{(t := w.work_track())}/stationary", _edit(w, t)),
    ),
    Row(
        "POST", TRACK + "/moving", EDITORS,
        lambda w: Req("POST", f"/api/tracks/{(t := w.work_track(stationary=True))}/moving", _edit(w, t)),
    ),
    Row("POST", TRACK + "/confirm", EDITORS, lambda w: Req("POST", f"/api/tracks/{(t := w.candidate())}/confirm", _edit(w, t))),
    Row("POST", TRACK + "/reject", EDITORS, lambda w: Req("POST", f"/api/tracks/{(t := w.candidate())}/reject", _edit(w, t))),
    Row(
        "POST", TRACK + "/reopen", EDITORS,
        lambda w: Req("POST", f"/api/tracks/{(t := _rejected_candidate(w))}/reopen", _edit(w, t)),
    ),
    Row(
        "POST", "/api/candidates/reject", EDITORS,
        lambda w: Req("POST", "/api/candidates/reject", _batch(w, [w.candidate(), w.candidate()])),
    ),
    Row(
        "POST", "/api/candidates/reopen", EDITORS,
        lambda w: Req(
            "POST", "/api/candidates/reopen", _batch(w, [_rejected_candidate(w), _rejected_candidate(w)])
        ),
    ),
    # automation and guidance
    Row(
        "POST", SCENE + "/autolabel", AUTOMATION_RUNNERS,
        lambda w: Req("POST", f"/api/scenes/{w.scene_id}/autolabel", {"detector": "classic"}),
    ),
    Row("GET", SCENE + "/guidance", SCENE_READERS, lambda w: Req("GET", f"/api/scenes/{w.scene_id}/guidance")),
    Row(
        "GET", "/api/tracks/{track_id}/proposed-life", SCENE_READERS,
        lambda w: Req("GET", f"/api/tracks/{w.work_track(stationary=True)}/proposed-life"),
    ),
    Row(
        "GET", SCENE + "/stationary-review", SCENE_READERS,
        lambda w: Req("GET", f"/api/scenes/{w.scene_id}/stationary-review", params={"task_id": w.ann_task}),
    ),
    Row("GET", SCENE + "/ego-poses", SCENE_READERS, lambda w: Req("GET", f"/api/scenes/{w.scene_id}/ego-poses")),
    Row(
        "POST", SCENE + "/ego-poses/estimate", AUTOMATION_RUNNERS,
        lambda w: Req("POST", f"/api/scenes/{w.scene_id}/ego-poses/estimate", {"from_layer": "work"}),
    ),
    Row(
        "PUT", SCENE + "/ego-poses/active", AUTOMATION_RUNNERS,
        lambda w: Req("PUT", f"/api/scenes/{w.scene_id}/ego-poses/active", {"name": "raw"}),
    ),
    Row("GET", "/api/tasks/{task_id}/nudges", TASK_READERS, lambda w: Req("GET", f"/api/tasks/{w.ann_task}/nudges")),
    # KPIs and the project's settings (the stream ends after its first event with once=1)
    Row(
        "PATCH", "/api/projects/{project_id}", MANAGERS,
        lambda w: Req("PATCH", f"/api/projects/{w.project_id}", {"hourly_cost_eur": 30.0, "show_peer_names": True}),
    ),
    Row("GET", "/api/kpis/me", MEMBERS_READ, lambda w: Req("GET", "/api/kpis/me", params={"project_id": w.project_id})),
    Row(
        "GET", "/api/kpis/stream", MEMBERS_READ,
        lambda w: Req("GET", "/api/kpis/stream", params={"project_id": w.project_id, "once": 1}),
    ),
    Row("GET", "/api/projects/{project_id}/kpis", STAFF_READ, lambda w: Req("GET", f"/api/projects/{w.project_id}/kpis")),
    Row(
        "GET", "/api/projects/{project_id}/kpis", STAFF_READ,
        lambda w: Req("GET", f"/api/projects/{w.project_id}/kpis", params={"format": "csv"}),
        case="csv",
    ),
]  # fmt: skip

OUTSIDE_THE_SCHEMA = {("GET", "/"), ("GET", "/login"), ("GET", "/editor"), ("GET", "/api/kpis/stream")}
"""Routes the OpenAPI schema leaves out (the browser pages, the endless KPI stream) that still have a row."""
TESTED_ELSEWHERE = {
    ("POST", "/api/auth/login"): "tests/api/test_auth.py (login, wrong password, CSRF, logout)",
}


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


def _send(client: TestClient, world: World, caller: str, req: Req) -> tuple[int, str]:
    headers = {} if caller == ANONYMOUS else world.team.auth(caller)
    # Redirects are answers too (a page sends a logged-out visitor to the login page): never followed.
    response = client.request(
        req.method,
        req.url,
        json=req.json,
        params=req.params,
        files=req.files,
        data=req.data,
        headers=headers,
        follow_redirects=False,
    )
    return response.status_code, response.text[:160]


def test_every_route_against_every_caller(client: TestClient, world: World) -> None:
    mismatches: list[str] = []
    cells = 0
    for row in ROWS:
        for caller in CALLERS:
            status, text = _send(client, world, caller, row.make(world))
            cells += 1
            if status != row.expected[caller]:
                name = f"{row.method} {row.path}" + (f" [{row.case}]" if row.case else "")
                mismatches.append(f"{name} as {caller}: expected {row.expected[caller]}, got {status} {text}")
    assert not mismatches, "\n".join(mismatches)
    assert cells == len(ROWS) * len(CALLERS)


def test_every_route_has_an_authorization_row(api_app: FastAPI) -> None:
    routes = {(method.upper(), path) for path, ops in api_app.openapi()["paths"].items() for method in ops}
    covered = {(row.method, row.path) for row in ROWS} | set(TESTED_ELSEWHERE)
    assert routes - covered == set(), "routes without an authorization test"
    assert covered - routes == OUTSIDE_THE_SCHEMA, "rows for routes that no longer exist"


def test_listings_show_each_caller_only_what_they_may_see(client: TestClient, world: World) -> None:
    # abe's view must be taken before anything could give him a task; ann sees her task's scene only.
    other_scene = client.post(
        f"/api/projects/{world.project_id}/scenes/upload",
        files={"archive": ("gt.txt", MOT_FILE.read_bytes(), "text/plain")},
        data={"format": "mot"},
        headers=world.team.auth("meg"),
    ).json()["id"]
    every_task = client.get(f"/api/projects/{world.project_id}/tasks", headers=world.team.auth("meg")).json()
    assert [t["assignee"] for t in every_task] == ["ann"]
    expected_scenes = {
        "ann": [world.scene_id],
        "abe": [],
        **{key: [world.scene_id, other_scene] for key in [*STAFF, "root"]},
    }
    for caller, scene_ids in expected_scenes.items():
        headers = world.team.auth(caller)
        listed = client.get(f"/api/projects/{world.project_id}/scenes", headers=headers).json()
        assert [s["id"] for s in listed] == scene_ids, caller
        own = client.get(f"/api/projects/{world.project_id}/tasks", headers=headers).json()
        sees_all = caller in (*STAFF, "root")
        assert [t["id"] for t in own] == (
            [t["id"] for t in every_task] if sees_all or caller == "ann" else []
        )
        projects = client.get("/api/projects", headers=headers).json()
        assert [p["id"] for p in projects] == [world.project_id], caller
    assert client.get("/api/projects", headers=world.team.auth("otto")).json() == []
