"""Read what the KPIs of a project are computed from, as the plain records of ``labelpilot.kpi``: its
people's active time (rolled up, plus the last events read live), the delivered work of its submitted
tasks, its review decisions and its settings. Events of the system (no user) are not anybody's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.kpi.records import ActivityDigest, DeliveredWork, ReviewDecision
from labelpilot.services import kpi_rollups
from labelpilot.services.actors import Role
from labelpilot.services.errors import NotFoundError
from labelpilot.store.kpi_tables import KpiReviewDecision, KpiTaskShapes
from labelpilot.store.tables import Membership, Project, User


@dataclass(frozen=True)
class ProjectActivity:
    project_id: int
    hourly_cost_eur: float
    show_peer_names: bool
    digest: ActivityDigest
    work: list[DeliveredWork]
    reviews: list[ReviewDecision]
    roles: dict[int, str]
    """member -> role in the project"""
    costs: dict[int, float]
    """member -> their own hourly cost (members without one cost the project's)"""
    names: dict[int, str]
    """user id -> name, for every member and everyone with activity"""

    @property
    def people(self) -> list[int]:
        """Members and everyone else who worked in the project (e.g. an administrator), by id."""
        ids = set(self.roles) | {d.user_id for d in self.digest.days} | {w.user_id for w in self.work}
        return sorted(ids)

    @property
    def annotators(self) -> list[int]:
        """The members a person's pace is compared with: those who annotate."""
        return sorted(u for u, role in self.roles.items() if role == Role.ANNOTATOR.value)


def _work(session: Session, project_id: int) -> list[DeliveredWork]:
    rows = session.execute(
        select(
            KpiTaskShapes.user_id,
            KpiTaskShapes.day,
            KpiTaskShapes.task_id,
            KpiTaskShapes.label,
            KpiTaskShapes.tracks,
            KpiTaskShapes.shapes,
            KpiTaskShapes.candidates_confirmed,
            KpiTaskShapes.tracks_drawn,
            KpiTaskShapes.stationary_tracks,
        ).where(KpiTaskShapes.project_id == project_id)
    ).all()
    return [DeliveredWork(*row) for row in rows]


def _reviews(session: Session, project_id: int) -> list[ReviewDecision]:
    rows = session.execute(
        select(
            KpiReviewDecision.user_id,
            KpiReviewDecision.day,
            KpiReviewDecision.task_id,
            KpiReviewDecision.accepted,
        ).where(KpiReviewDecision.project_id == project_id)
    ).all()
    return [ReviewDecision(*row) for row in rows]


def load_project_activity(
    session: Session, project_id: int, *, idle_seconds: float, now: datetime
) -> ProjectActivity:
    """Everything the project's KPIs need, read in one transaction (the caller checks access)."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found")
    through = kpi_rollups.bring_up_to_date(session, project_id, idle_seconds=idle_seconds, now=now)
    activity = kpi_rollups.rolled_up(session, project_id).merged(
        kpi_rollups.live_tail(session, project_id, idle_seconds=idle_seconds, since=through)
    )
    work = _work(session, project_id)
    members = session.execute(
        select(Membership.user_id, Membership.role, Membership.hourly_cost_eur).where(
            Membership.project_id == project_id
        )
    ).all()
    roles = {user_id: role for user_id, role, _ in members}
    costs = {user_id: cost for user_id, _, cost in members if cost is not None}
    user_ids = set(roles) | {d.user_id for d in activity.days} | {w.user_id for w in work}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    return ProjectActivity(
        project_id=project_id,
        hourly_cost_eur=project.hourly_cost_eur,
        show_peer_names=project.show_peer_names,
        digest=activity,
        work=work,
        reviews=_reviews(session, project_id),
        roles=roles,
        costs=costs,
        names=names,
    )
