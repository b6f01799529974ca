"""``labelpilot demo``: a working installation in one command, on the bundled real sample."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.cli.common import blob_store, console, database, fail
from labelpilot.cli.server_commands import HostOpt, PortOpt, run_server
from labelpilot.demo_team.team import TEAM, TEAM_SCENE_NAME, DemoTeam
from labelpilot.services import accounts, automation_runs, projects, scenes, tasks
from labelpilot.services.actors import SYSTEM, Role
from labelpilot.settings import Settings
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import Project, SceneRow

REPO_SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
DEMO_PROJECT = "demo"
LOGINS_FILE = "demo-logins.json"


@dataclass(frozen=True)
class DemoLogin:
    name: str
    role: str
    password: str


DEMO_ROLES: tuple[tuple[str, str], ...] = (
    ("admin", "admin"),
    ("manager", Role.MANAGER.value),
    ("annotator", Role.ANNOTATOR.value),
    ("annotator2", Role.ANNOTATOR.value),
    ("reviewer", Role.REVIEWER.value),
    ("coach", Role.COACH.value),
)


@dataclass(frozen=True)
class DemoScene:
    format_name: str
    folder: str
    sequence: str | None
    name: str
    candidates_from: str | None = None
    """An auto-label layer turned into stored candidate tracks, so the editor opens with work to confirm."""


DEMO_SCENES = (
    DemoScene("kitti-odometry", "kitti-odometry-00-demo", None, "KITTI odometry 00: parked cars, 30 sweeps"),
    DemoScene(
        "kitti-tracking",
        "kitti-tracking",
        "0001",
        "KITTI tracking 0001 with PointRCNN auto labels",
        candidates_from="auto:pointrcnn",
    ),
)


TEAM_SCENE = DemoScene(
    "kitti-tracking", "kitti-tracking", "0001", TEAM_SCENE_NAME, candidates_from="auto:pointrcnn"
)
"""The simulated team's own copy of KITTI tracking 0001: its ground truth is the simulated people's
eyes, and its candidates are theirs to take (the people's scene keeps its own)."""


def _logins_path(settings: Settings) -> Path:
    return settings.home / LOGINS_FILE


def _new_login(session: Session, project_id: int, name: str, role: str) -> DemoLogin:
    password = secrets.token_urlsafe(9)
    accounts.create_user(session, name, password, is_admin=role == "admin")
    if role != "admin":
        projects.set_member(session, SYSTEM, project_id, name, Role(role))
    return DemoLogin(name, role, password)


def _import(
    session: Session, blobs: BlobStore, project_id: int, demo_scene: DemoScene, sample_dir: Path
) -> int:
    console.print(f"importing {demo_scene.name} ...")
    row = scenes.import_scene(
        session,
        blobs,
        SYSTEM,
        project_id,
        demo_scene.format_name,
        sample_dir / demo_scene.folder,
        demo_scene.sequence,
        demo_scene.name,
    )
    if demo_scene.candidates_from is not None:
        console.print(f"candidate tracks from {demo_scene.candidates_from} ...")
        automation_runs.autolabel(session, blobs, SYSTEM, row.id, from_layer=demo_scene.candidates_from)
    return row.id


def _setup_team(
    session: Session, settings: Settings, sample_dir: Path, project_id: int, known: set[str]
) -> list[DemoLogin]:
    """The simulated annotators' users and their scene, once (also in a demo set up before the team
    existed); returns the logins it created."""
    created = [
        _new_login(session, project_id, m.name, Role.ANNOTATOR.value) for m in TEAM if m.name not in known
    ]
    has_scene = session.scalar(
        select(SceneRow.id).where(SceneRow.project_id == project_id, SceneRow.name == TEAM_SCENE.name)
    )
    if has_scene is None:
        _import(session, blob_store(settings), project_id, TEAM_SCENE, sample_dir)
    return created


def setup_demo(settings: Settings, sample_dir: Path, *, team: bool = True) -> list[DemoLogin]:
    """Create the demo project, users, scenes and tasks once (with ``team``, also the simulated
    team's users and scene); later runs reuse them."""
    logins_path = _logins_path(settings)
    with database(settings) as session:
        project = session.query(Project).filter(Project.name == DEMO_PROJECT).first()
        created: list[DemoLogin] = []
        if project is not None:
            if not logins_path.is_file():
                raise fail(
                    f"a '{DEMO_PROJECT}' project exists but {logins_path} is gone; use another LABELPILOT_HOME"
                )
            logins = [DemoLogin(**row) for row in json.loads(logins_path.read_text())]
        else:
            project = projects.create_project(session, SYSTEM, DEMO_PROJECT)
            created = [_new_login(session, project.id, name, role) for name, role in DEMO_ROLES]
            logins = []
            blobs = blob_store(settings)
            for demo_scene in DEMO_SCENES:
                scene_id = _import(session, blobs, project.id, demo_scene, sample_dir)
                tasks.create_task(session, SYSTEM, project.id, scene_id, "annotate")
        if team:
            known = {login.name for login in (*logins, *created)}
            created += _setup_team(session, settings, sample_dir, project.id, known)
    if created:
        logins += created
        logins_path.parent.mkdir(parents=True, exist_ok=True)
        logins_path.write_text(json.dumps([asdict(login) for login in logins], indent=2) + "\n")
        logins_path.chmod(0o600)
    return logins


def print_logins(logins: list[DemoLogin], url: str) -> None:
    table = Table(title=f"demo logins for {url}", title_justify="left")
    for column in ("user", "role", "password"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.name, login.role, login.password)
    console.print(table)


def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    sample_dir: Annotated[
        Path, typer.Option("--sample-dir", help="Folder of the bundled sample data.")
    ] = REPO_SAMPLE,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Set up the demo, print the logins and exit.")
    ] = False,
    no_demo_team: Annotated[
        bool, typer.Option("--no-demo-team", help="Run no simulated annotators (and set none up).")
    ] = False,
    demo_team_speed: Annotated[
        float,
        typer.Option(
            "--demo-team-speed", min=0.1, help="How much faster than real time the simulated team works."
        ),
    ] = 1.0,
) -> None:
    """Set up the embedded demo (database, the bundled real sample scenes, demo users and tasks) and serve
    it, with a team of simulated annotators working live."""
    settings = Settings()
    # The team is set up the first time it is going to work (so `--no-serve` leaves it out).
    logins = setup_demo(settings, sample_dir, team=not (no_demo_team or no_serve))
    print_logins(logins, f"http://{host}:{port}/")
    if no_serve:
        return
    if no_demo_team:
        run_server(settings, host, port)
        return
    passwords = {login.name: login.password for login in logins}
    team = DemoTeam(local_url(host, port), passwords, project=DEMO_PROJECT, speed=demo_team_speed)
    console.print(
        f"simulated annotators {', '.join(w.member.name for w in team.workers)} start once the server "
        f"is up (at {demo_team_speed:g}x real time; --no-demo-team turns them off)"
    )
    team.start()
    try:
        run_server(settings, host, port)
    finally:
        team.close()


def local_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server listening on ``host``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
