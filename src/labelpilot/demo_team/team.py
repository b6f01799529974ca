"""A few simulated annotators of different skill, each working the demo team's scene in its own thread.

Each round a member asks the server for an open task of their own on the team's scene; when there is
none, the demo's manager creates one through the API, in a fresh layer (``sim-expert-3``, ...). The
member starts it, works it with their effort-model workflow at their own pace (``pacing``), and
submits it; then the next round. Every member works the same scene, so only the expert uses the
auto labels (candidates are the scene's, not the task's: two members confirming the same candidate
would collide):

* ``sim-expert``: the product as meant, ``guided`` (candidates first), skill factor 0.7;
* ``sim-regular``: LabelPilot without the auto labels, ``guided_without_auto_labels``, 1.0;
* ``sim-novice``: habits of today's tools, ``keyframes_sensor_frame``, 1.5.

An error is logged and the member tries again after a back-off (doubling to a minute); stopping ends
every member within one action.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
from rich.console import Console

from labelpilot.demo_team.api_client import ApiClient
from labelpilot.demo_team.http_editor import HttpEditor, ground_truth
from labelpilot.demo_team.pacing import DemoStoppedError, PacedLedger, Pacer
from labelpilot.effort.annotator import Annotator
from labelpilot.effort.oracle import Oracle
from labelpilot.effort.workflows import WorkflowName, WorkflowSettings, annotator_tools, run_workflow

TEAM_SCENE_NAME = "Demo team: KITTI tracking 0001"
"""The scene the simulated team works on: a copy of the demo's KITTI tracking 0001 (ground truth and
PointRCNN candidates), so the team never takes the candidates of the scene people label."""
CANDIDATES_PREFIX = "candidates:"
OPEN_STATES = ("in_progress", "rejected", "queued")
"""A member's own tasks, in the order they pick them up."""
FIRST_BACKOFF_S = 2.0
MAX_BACKOFF_S = 60.0
HEALTH_POLL_S = 0.5


@dataclass(frozen=True)
class Member:
    name: str
    """The user name (an annotator of the demo project)."""
    workflow: WorkflowName
    skill_factor: float
    """Multiplies every price of the effort model (below 1: faster than the table's average person)."""


TEAM: tuple[Member, ...] = (
    Member("sim-expert", "guided", 0.7),
    Member("sim-regular", "guided_without_auto_labels", 1.0),
    Member("sim-novice", "keyframes_sensor_frame", 1.5),
)


def server_up(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/api/health", timeout=2.0).status_code == 200
    except httpx2.TransportError:
        return False


def wait_until_up(url: str, stop: threading.Event) -> bool:
    """Poll the server's health route until it answers (True) or the demo stops (False)."""
    while not stop.is_set():
        if server_up(url):
            return True
        stop.wait(HEALTH_POLL_S)
    return False


def project_id(client: ApiClient, project: str) -> int:
    found = [p["id"] for p in client.call("GET", "/api/projects") if p["name"] == project]
    if not found:
        raise LookupError(f"{client.name} is not a member of a project named {project!r}")
    return int(found[0])


def team_scene_id(client: ApiClient, project: int) -> int:
    scenes = client.call("GET", f"/api/projects/{project}/scenes")
    found = [s["id"] for s in scenes if s["name"] == TEAM_SCENE_NAME]
    if not found:
        raise LookupError(f"project {project} has no scene {TEAM_SCENE_NAME!r}")
    return int(found[0])


def next_layer(tasks: Sequence[Mapping[str, Any]], member: str) -> str:
    """A layer no task of the member has used yet: ``<member>-<n>``."""
    pattern = re.compile(rf"{re.escape(member)}-(\d+)")
    used = [int(m.group(1)) for t in tasks if (m := pattern.fullmatch(str(t["layer"]))) is not None]
    return f"{member}-{max(used, default=0) + 1}"


class Worker:
    """One simulated annotator's loop: take a task, work it, submit it, again."""

    def __init__(self, team: DemoTeam, member: Member) -> None:
        self.team = team
        self.member = member
        self.submitted = 0
        self._me: ApiClient | None = None
        self._manager: ApiClient | None = None

    def _clients(self) -> tuple[ApiClient, ApiClient]:
        team = self.team
        if self._me is None:
            self._me = ApiClient(team.url, self.member.name, team.passwords[self.member.name])
        if self._manager is None:
            self._manager = ApiClient(team.url, team.manager, team.passwords[team.manager])
        return self._me, self._manager

    def _forget_clients(self) -> None:
        for client in (self._me, self._manager):
            if client is not None:
                client.close()
        self._me = self._manager = None

    def _task(self, me: ApiClient, manager: ApiClient) -> dict[str, Any]:
        """My open task on the team's scene, else a new one from the manager, started."""
        project = project_id(manager, self.team.project)
        scene = team_scene_id(manager, project)
        mine = me.call("GET", f"/api/projects/{project}/tasks", params={"mine": "true", "scene_id": scene})
        open_ones = [t for t in mine if t["kind"] == "annotate" and t["state"] in OPEN_STATES]
        open_ones.sort(key=lambda t: (OPEN_STATES.index(t["state"]), t["id"]))
        if open_ones:
            task: dict[str, Any] = open_ones[0]
        else:
            every = manager.call("GET", f"/api/projects/{project}/tasks", params={"scene_id": scene})
            body = {"scene_id": scene, "kind": "annotate", "layer": next_layer(every, self.member.name)}
            task = manager.call(
                "POST", f"/api/projects/{project}/tasks", {**body, "assignee": self.member.name}
            )
        if task["state"] != "in_progress":
            task = me.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
        return task

    def work_round(self) -> None:
        me, manager = self._clients()
        task = self._task(me, manager)
        member = self.member
        layers = me.call("GET", f"/api/scenes/{task['scene_id']}/layers")
        candidates = [str(x["name"]) for x in layers if str(x["name"]).startswith(CANDIDATES_PREFIX)]
        editor = HttpEditor(me, task, candidates if member.workflow == "guided" else ())
        pacer = Pacer(self.team.stop, self.team.speed, member.skill_factor)
        ledger = PacedLedger(pacer)
        mode, keys = annotator_tools(member.workflow)
        annotator = Annotator(editor, Oracle(ground_truth(me, editor.scene_id), ledger), mode=mode, keys=keys)
        self.team.say(f"{member.name} works on task {task['id']} (layer {task['layer']}, {member.workflow})")
        started = time.monotonic()
        pacer.open_editor(
            lambda interval: editor.send_event(
                "heartbeat", {"frame": annotator.frame, "interval_s": interval}
            )
        )
        try:
            run_workflow(
                member.workflow,
                annotator,
                WorkflowSettings(frame_period_s=editor.scene.frame_period_s),
            )
        finally:
            pacer.close_editor()
        self.submitted += 1
        self.team.say(
            f"{member.name} submitted task {task['id']}: {len(editor.work_tracks())} tracks, "
            f"{ledger.seconds * member.skill_factor / 60:.0f} min of work "
            f"in {time.monotonic() - started:.0f} s"
        )

    def run(self) -> None:
        stop = self.team.stop
        if not wait_until_up(self.team.url, stop):
            return
        backoff = FIRST_BACKOFF_S
        while not stop.is_set():
            try:
                self.work_round()
                backoff = FIRST_BACKOFF_S
            except DemoStoppedError:
                break
            except Exception as err:  # any failure: log it, back off, go on (the demo must stay alive)
                if stop.is_set():
                    break
                self._forget_clients()
                if isinstance(err, httpx2.TransportError) and not server_up(self.team.url):
                    # The server is gone (the demo is shutting down): wait for it quietly.
                    if not wait_until_up(self.team.url, stop):
                        break
                    continue
                self.team.say(
                    f"[yellow]{self.member.name}: {type(err).__name__}: {err}; "
                    f"trying again in {backoff:.0f} s[/]"
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        self._forget_clients()


class DemoTeam:
    """The simulated annotators of ``labelpilot demo``, each in a daemon thread."""

    def __init__(
        self,
        url: str,
        passwords: Mapping[str, str],
        *,
        manager: str = "manager",
        project: str = "demo",
        speed: float = 1.0,
        members: Sequence[Member] = TEAM,
        console: Console | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError("the demo team's speed must be positive")
        self.url = url.rstrip("/")
        self.passwords = dict(passwords)
        self.manager = manager
        self.project = project
        self.speed = speed
        self.stop = threading.Event()
        self.console = console or Console(stderr=True)
        self.workers = [Worker(self, m) for m in members]
        self._threads: list[threading.Thread] = []

    def say(self, message: str) -> None:
        self.console.print(f"[dim]demo team:[/] {message}", highlight=False, soft_wrap=True)

    def start(self) -> None:
        """Start every member; each waits for the server to answer first."""
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name=f"demo-team-{worker.member.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop every member (each within one action or one HTTP call) and wait for them."""
        self.stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
