"""Login, logout, the current user, personal tokens and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from labelpilot.api.deps import SESSION_COOKIE, CurrentActor, SessionDep, app_state
from labelpilot.api.params import Text
from labelpilot.services import accounts
from labelpilot.services.actors import Actor

router = APIRouter(prefix="/api", tags=["auth"])


class LoginRequest(BaseModel):
    name: Text = Field(min_length=1, max_length=80)
    password: Text = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    name: str
    is_admin: bool


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class TokenRequest(BaseModel):
    name: Text = Field(min_length=1, max_length=80)


class TokenOut(BaseModel):
    name: str
    token: str


class HealthOut(BaseModel):
    status: str


def _user_out(actor: Actor) -> UserOut:
    return UserOut(id=actor.user_id, name=actor.name, is_admin=actor.is_admin)


@router.get("/health", response_model=HealthOut)
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep) -> LoginOut:
    user = accounts.authenticate(session, body.name, body.password)
    settings = app_state(request).settings
    new = accounts.start_login_session(session, user, settings.session_hours)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return LoginOut(user=_user_out(accounts.actor_of(user)), csrf_token=new.csrf_token)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep, actor: CurrentActor) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_login_session(session, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=LoginOut)
def me(request: Request, session: SessionDep, actor: CurrentActor) -> LoginOut:
    csrf = ""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and not request.headers.get("authorization"):
        _user, csrf = accounts.user_for_login_session(session, cookie)
    return LoginOut(user=_user_out(actor), csrf_token=csrf)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenRequest, session: SessionDep, actor: CurrentActor) -> TokenOut:
    user = accounts.get_user_by_name(session, actor.name)
    return TokenOut(name=body.name, token=accounts.create_api_token(session, user, body.name))
