"""Setting up an installation: the database, users, tokens, projects and members."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from labelpilot.cli.common import console, database, fail
from labelpilot.services import accounts, kpi_rollups, projects
from labelpilot.services.actors import SYSTEM, Role
from labelpilot.settings import Settings
from labelpilot.store.blobs import redacted_url
from labelpilot.store.tables import utcnow

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage personal API tokens.", no_args_is_help=True)
projects_app = typer.Typer(help="Manage projects and their members.", no_args_is_help=True)

ADMIN_ROLE = "admin"
ROLE_CHOICES = [ADMIN_ROLE, *(r.value for r in Role)]


def init() -> None:
    """Create or upgrade the database (LABELPILOT_DATABASE_URL, default a SQLite file under LABELPILOT_HOME)."""
    settings = Settings()
    with database(settings):
        pass
    console.print(f"database ready: {settings.resolved_database_url}")
    console.print(f"blob store: {redacted_url(settings.resolved_blob_root)}")


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise fail("--password-stdin was given but standard input held no password")
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's login name.", show_default=False)],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="'admin' for a global administrator; otherwise the role they get with --project "
            "(annotator, reviewer, coach, manager).",
        ),
    ] = "annotator",
    project: Annotated[str | None, typer.Option("--project", help="Add the user to this project.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of standard input."),
    ] = False,
) -> None:
    """Add a user. Without --password-stdin the user can only use API tokens."""
    if role not in ROLE_CHOICES:
        raise fail(f"unknown role {role!r}; one of {', '.join(ROLE_CHOICES)}")
    password = _read_password(password_stdin)
    with database() as session:
        user = accounts.create_user(session, name, password, is_admin=role == ADMIN_ROLE)
        if project is not None and role != ADMIN_ROLE:
            target = projects.resolve_project(session, project)
            projects.set_member(session, SYSTEM, target.id, user.name, Role(role))
    console.print(f"added user {name} ({role})")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="The user the token belongs to.", show_default=False)],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "cli",
) -> None:
    """Create a personal API token for a user and print it (it is shown only once)."""
    with database() as session:
        user = accounts.get_user_by_name(session, name)
        token = accounts.create_api_token(session, user, label)
    typer.echo(token)


@projects_app.command("create")
def projects_create(name: Annotated[str, typer.Argument(help="Project name.", show_default=False)]) -> None:
    """Create a project and print its id."""
    with database() as session:
        project = projects.create_project(session, SYSTEM, name)
        project_id = project.id
    typer.echo(project_id)


@projects_app.command("add-member")
def projects_add_member(
    project: Annotated[str, typer.Argument(help="Project id or name.", show_default=False)],
    user: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    role: Annotated[Role, typer.Option("--role", help="The user's role in the project.")] = Role.ANNOTATOR,
) -> None:
    """Add a user to a project with a role, or change their role."""
    with database() as session:
        target = projects.resolve_project(session, project)
        projects.set_member(session, SYSTEM, target.id, user, role)
    console.print(f"{user} is now {role.value} in {project}")


@projects_app.command("rebuild-kpis")
def projects_rebuild_kpis(
    project: Annotated[str, typer.Argument(help="Project id or name.", show_default=False)],
) -> None:
    """Compute a project's KPI rollups again from its event log, tracks and tasks."""
    settings = Settings()
    with database(settings) as session:
        target = projects.resolve_project(session, project)
        kpi_rollups.rebuild(session, target.id, idle_seconds=settings.kpi_idle_seconds, now=utcnow())
    console.print(f"KPI rollups of {project} rebuilt (idle threshold {settings.kpi_idle_seconds:g} s)")
