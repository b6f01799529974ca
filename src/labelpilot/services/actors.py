"""Who is acting, and what each project role may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.services.errors import ForbiddenError, NotFoundError
from labelpilot.store.tables import Membership, Project


class Role(StrEnum):
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    COACH = "coach"
    MANAGER = "manager"


ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.REVIEWER, Role.COACH, Role.MANAGER})
"""Roles that see every scene and task of a project (an annotator sees only their own)."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    name: str
    is_admin: bool = False


SYSTEM = Actor(user_id=0, name="system", is_admin=True)
"""The CLI acting on the local installation with full rights."""


def role_in(session: Session, actor: Actor, project_id: int) -> Role | None:
    if session.get(Project, project_id) is None:
        raise NotFoundError(f"project {project_id} not found")
    membership = session.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == actor.user_id)
    )
    return Role(membership.role) if membership else None


def require_role(session: Session, actor: Actor, project_id: int, allowed: frozenset[Role]) -> Role | None:
    """The actor's role if it is allowed (admins always are); ForbiddenError otherwise.

    A non-member is told the project does not exist, so that project names do not leak.
    """
    role = role_in(session, actor, project_id)
    if actor.is_admin:
        return role
    if role is None:
        raise NotFoundError(f"project {project_id} not found")
    if role not in allowed:
        raise ForbiddenError(f"a {role.value} may not do this in project {project_id}")
    return role
