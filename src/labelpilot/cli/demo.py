"""``labelpilot demo``: a working installation in one command, on the bundled real sample."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labelpilot.cli.common import blob_store, console, database, fail
from labelpilot.cli.server_commands import HostOpt, PortOpt, run_server
from labelpilot.services import accounts, automation_runs, projects, scenes, tasks
from labelpilot.services.actors import SYSTEM, Role
from labelpilot.settings import Settings
from labelpilot.store.tables import Project

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


def _logins_path(settings: Settings) -> Path:
    return settings.home / LOGINS_FILE


def setup_demo(settings: Settings, sample_dir: Path) -> list[DemoLogin]:
    """Create the demo project, users, scenes and tasks once; later runs reuse them."""
    logins_path = _logins_path(settings)
    with database(settings) as session:
        if session.query(Project).filter(Project.name == DEMO_PROJECT).first() is not None:
            if logins_path.is_file():
                return [DemoLogin(**row) for row in json.loads(logins_path.read_text())]
            raise fail(
                f"a '{DEMO_PROJECT}' project exists but {logins_path} is gone; use another LABELPILOT_HOME"
            )
        project = projects.create_project(session, SYSTEM, DEMO_PROJECT)
        logins: list[DemoLogin] = []
        for name, role in DEMO_ROLES:
            password = secrets.token_urlsafe(9)
            accounts.create_user(session, name, password, is_admin=role == "admin")
            if role != "admin":
                projects.set_member(session, SYSTEM, project.id, name, Role(role))
            logins.append(DemoLogin(name, role, password))
        blobs = blob_store(settings)
        for demo_scene in DEMO_SCENES:
            console.print(f"importing {demo_scene.name} ...")
            row = scenes.import_scene(
                session,
                blobs,
                SYSTEM,
                project.id,
                demo_scene.format_name,
                sample_dir / demo_scene.folder,
                demo_scene.sequence,
                demo_scene.name,
            )
            if demo_scene.candidates_from is not None:
                console.print(f"candidate tracks from {demo_scene.candidates_from} ...")
                automation_runs.autolabel(
                    session, blobs, SYSTEM, row.id, from_layer=demo_scene.candidates_from
                )
            tasks.create_task(session, SYSTEM, project.id, row.id, "annotate")
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
) -> None:
    """Set up the embedded demo (database, the bundled real sample scenes, demo users and tasks) and serve it."""
    settings = Settings()
    logins = setup_demo(settings, sample_dir)
    print_logins(logins, f"http://{host}:{port}/")
    if not no_serve:
        run_server(settings, host, port)
