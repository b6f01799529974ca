"""Projects and their members."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.services.actors import ALL_ROLES, Actor, Role, require_role
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.services.events import record_event
from labelpilot.store.tables import Membership, Project, User

MAX_HOURLY_COST_EUR = 100_000.0


@dataclass(frozen=True)
class ProjectView:
    id: int
    name: str
    role: str | None
    hourly_cost_eur: float
    """what an hour of a person's time costs (shapes per Euro)"""
    show_peer_names: bool
    """whether members who are not managers see their peers' names in the KPIs"""


def _view(project: Project, role: str | None) -> ProjectView:
    return ProjectView(project.id, project.name, role, project.hourly_cost_eur, project.show_peer_names)


def create_project(session: Session, actor: Actor, name: str) -> Project:
    """Admins create projects; the creator becomes a manager of it."""
    if not actor.is_admin:
        raise ForbiddenError("only an administrator may create projects")
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidError("a project name needs 1 to 120 characters", field="name")
    if session.scalar(select(Project).where(Project.name == name)) is not None:
        raise ConflictError(f"project {name!r} already exists")
    project = Project(name=name)
    session.add(project)
    session.flush()
    if actor.user_id and session.get(User, actor.user_id) is not None:
        session.add(Membership(project_id=project.id, user_id=actor.user_id, role=Role.MANAGER.value))
        session.flush()
    return project


def project_by_name(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise NotFoundError(f"project {name!r} not found")
    return project


def resolve_project(session: Session, ref: str) -> Project:
    """A project by id (digits) or by name."""
    if ref.isdigit():
        project = session.get(Project, int(ref))
        if project is None:
            raise NotFoundError(f"project {ref} not found")
        return project
    return project_by_name(session, ref)


def set_member(session: Session, actor: Actor, project_id: int, user_name: str, role: Role) -> Membership:
    """Add a member or change their role (managers and admins)."""
    require_role(session, actor, project_id, frozenset({Role.MANAGER}))
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise NotFoundError(f"user {user_name!r} not found")
    membership = session.get(Membership, (project_id, user.id))
    if membership is None:
        membership = Membership(project_id=project_id, user_id=user.id, role=role.value)
        session.add(membership)
    else:
        membership.role = role.value
    session.flush()
    return membership


def list_projects(session: Session, actor: Actor) -> list[ProjectView]:
    rows = session.execute(
        select(Project, Membership.role)
        .outerjoin(Membership, (Membership.project_id == Project.id) & (Membership.user_id == actor.user_id))
        .order_by(Project.id)
    ).all()
    return [_view(project, role) for project, role in rows if actor.is_admin or role is not None]


def get_project(session: Session, actor: Actor, project_id: int) -> ProjectView:
    role = require_role(session, actor, project_id, ALL_ROLES)
    project = session.get(Project, project_id)
    assert project is not None  # require_role checked it
    return _view(project, role.value if role else None)


def update_project_settings(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    hourly_cost_eur: float | None = None,
    show_peer_names: bool | None = None,
) -> ProjectView:
    """Change the project's KPI settings (managers and admins); None leaves a setting as it is.

    Recorded as a ``project_settings_changed`` event, so that live dashboards recompute (a new cost
    changes every shapes-per-Euro figure).
    """
    role = require_role(session, actor, project_id, frozenset({Role.MANAGER}))
    project = session.get(Project, project_id)
    assert project is not None  # require_role checked it
    before = {"hourly_cost_eur": project.hourly_cost_eur, "show_peer_names": project.show_peer_names}
    if hourly_cost_eur is not None:
        project.hourly_cost_eur = _check_cost(hourly_cost_eur, "hourly_cost_eur")
    if show_peer_names is not None:
        if not isinstance(show_peer_names, bool):
            raise InvalidError("show_peer_names must be true or false", field="show_peer_names")
        project.show_peer_names = show_peer_names
    session.flush()
    after = {"hourly_cost_eur": project.hourly_cost_eur, "show_peer_names": project.show_peer_names}
    if after != before:
        record_event(
            session,
            actor,
            "project_settings_changed",
            project_id=project_id,
            payload={"before": before, "after": after},
        )
    return _view(project, role.value if role else None)


def list_members(session: Session, actor: Actor, project_id: int) -> list[tuple[str, str, float | None]]:
    """Name, role and own hourly cost of every member; the costs (what someone earns) only for managers
    and administrators, None for everyone else."""
    role = require_role(session, actor, project_id, ALL_ROLES)
    sees_costs = actor.is_admin or role is Role.MANAGER
    rows = session.execute(
        select(User.name, Membership.role, Membership.hourly_cost_eur)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
        .order_by(User.name)
    ).all()
    return [(name, member_role, cost if sees_costs else None) for name, member_role, cost in rows]


def _check_cost(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_HOURLY_COST_EUR:
        raise InvalidError(f"{field} must be a number from 0 to {MAX_HOURLY_COST_EUR:g}", field=field)
    return float(value)


def set_member_cost(
    session: Session, actor: Actor, project_id: int, user_name: str, hourly_cost_eur: float | None
) -> Membership:
    """A member's own hourly cost, or None for the project's (managers and admins). Recorded as a
    ``member_cost_changed`` event, so that live dashboards recompute their shapes per Euro."""
    require_role(session, actor, project_id, frozenset({Role.MANAGER}))
    membership = session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.project_id == project_id, User.name == user_name)
    )
    if membership is None:
        raise NotFoundError(f"{user_name!r} is not a member of project {project_id}")
    before = membership.hourly_cost_eur
    membership.hourly_cost_eur = (
        None if hourly_cost_eur is None else _check_cost(hourly_cost_eur, "hourly_cost_eur")
    )
    record_event(
        session,
        actor,
        "member_cost_changed",
        project_id=project_id,
        payload={"user": user_name, "before": before, "after": membership.hourly_cost_eur},
    )
    session.flush()
    return membership
