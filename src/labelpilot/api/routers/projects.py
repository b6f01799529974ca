"""Projects and members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from labelpilot.api.deps import CurrentActor, SessionDep
from labelpilot.api.params import IdPath, NamePath, Text
from labelpilot.services import projects, size_defaults
from labelpilot.services.actors import Role

router = APIRouter(prefix="/api/projects", tags=["projects"])


class ProjectOut(BaseModel):
    id: int
    name: str
    role: str | None
    hourly_cost_eur: float
    show_peer_names: bool

    @classmethod
    def of(cls, view: projects.ProjectView) -> ProjectOut:
        return cls(
            id=view.id,
            name=view.name,
            role=view.role,
            hourly_cost_eur=view.hourly_cost_eur,
            show_peer_names=view.show_peer_names,
        )


class ProjectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hourly_cost_eur: float | None = Field(
        default=None,
        ge=0,
        le=projects.MAX_HOURLY_COST_EUR,
        allow_inf_nan=False,
        description="what an hour of a person's time costs, for shapes per Euro",
    )
    show_peer_names: bool | None = Field(
        default=None, description="members who are not managers see their peers' names in the KPIs"
    )


class ProjectCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=120)


class MemberOut(BaseModel):
    name: str
    role: str
    hourly_cost_eur: float | None = Field(
        default=None,
        description="the member's own hourly cost (managers and admins see it); null: the project's",
    )


class MemberSet(BaseModel):
    role: Role


class MemberCost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hourly_cost_eur: float | None = Field(
        ge=0,
        le=projects.MAX_HOURLY_COST_EUR,
        allow_inf_nan=False,
        description="what an hour of this member's time costs; null: the project's hourly_cost_eur",
    )


@router.get("", response_model=list[ProjectOut])
def list_projects(session: SessionDep, actor: CurrentActor) -> list[ProjectOut]:
    return [ProjectOut.of(p) for p in projects.list_projects(session, actor)]


@router.post("", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectCreate, session: SessionDep, actor: CurrentActor) -> ProjectOut:
    project = projects.create_project(session, actor, body.name)
    return ProjectOut.of(projects.get_project(session, actor, project.id))


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: IdPath, session: SessionDep, actor: CurrentActor) -> ProjectOut:
    return ProjectOut.of(projects.get_project(session, actor, project_id))


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(
    project_id: IdPath, body: ProjectSettings, session: SessionDep, actor: CurrentActor
) -> ProjectOut:
    """Change the project's KPI settings (managers and admins); fields left out stay as they are."""
    view = projects.update_project_settings(
        session,
        actor,
        project_id,
        hourly_cost_eur=body.hourly_cost_eur,
        show_peer_names=body.show_peer_names,
    )
    return ProjectOut.of(view)


@router.get("/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: IdPath, session: SessionDep, actor: CurrentActor) -> list[MemberOut]:
    return [
        MemberOut(name=n, role=r, hourly_cost_eur=c)
        for n, r, c in projects.list_members(session, actor, project_id)
    ]


@router.put("/{project_id}/members/{user_name}", response_model=MemberOut)
def set_member(
    project_id: IdPath, user_name: NamePath, body: MemberSet, session: SessionDep, actor: CurrentActor
) -> MemberOut:
    membership = projects.set_member(session, actor, project_id, user_name, body.role)
    return MemberOut(name=user_name, role=body.role.value, hourly_cost_eur=membership.hourly_cost_eur)


@router.patch("/{project_id}/members/{user_name}", response_model=MemberOut)
def set_member_cost(
    project_id: IdPath, user_name: NamePath, body: MemberCost, session: SessionDep, actor: CurrentActor
) -> MemberOut:
    """A member's own hourly cost for shapes per Euro (managers, admins); null falls back to the project's."""
    membership = projects.set_member_cost(session, actor, project_id, user_name, body.hourly_cost_eur)
    return MemberOut(name=user_name, role=membership.role, hourly_cost_eur=membership.hourly_cost_eur)


@router.get("/{project_id}/size-priors")
def size_priors(project_id: IdPath, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Per-class size (mean and std of length, width, height) that new boxes start from in this project."""
    return size_defaults.project_size_priors(session, actor, project_id)
