"""Accounts, tokens, login sessions and project roles on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts, projects
from labelpilot.services.actors import SYSTEM, Role, require_role
from labelpilot.services.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    UnauthenticatedError,
)


def test_password_login_and_tokens(db_factory: sessionmaker[Session]) -> None:
    with db_factory.begin() as s:
        user = accounts.create_user(s, "alice", "correct horse")
        token = accounts.create_api_token(s, user, "laptop")
    with db_factory.begin() as s:
        assert accounts.authenticate(s, "alice", "correct horse").name == "alice"
        with pytest.raises(UnauthenticatedError):
            accounts.authenticate(s, "alice", "wrong password")
        with pytest.raises(UnauthenticatedError):
            accounts.authenticate(s, "nobody", "correct horse")
        assert accounts.user_for_token(s, token).name == "alice"
        with pytest.raises(UnauthenticatedError):
            accounts.user_for_token(s, token + "x")
        login = accounts.start_login_session(s, accounts.get_user_by_name(s, "alice"), hours=1)
    with db_factory.begin() as s:
        user, csrf = accounts.user_for_login_session(s, login.token)
        assert user.name == "alice" and csrf == login.csrf_token
        accounts.end_login_session(s, login.token)
    with db_factory.begin() as s, pytest.raises(UnauthenticatedError):
        accounts.user_for_login_session(s, login.token)


def test_passwords_are_never_stored_in_clear(db_factory: sessionmaker[Session]) -> None:
    with db_factory.begin() as s:
        user = accounts.create_user(s, "bob", "s3cret-password")
        assert user.password_hash and "s3cret-password" not in user.password_hash
        with pytest.raises(InvalidError) as short:
            accounts.create_user(s, "carol", "short")
        assert short.value.field == "password"
        with pytest.raises(ConflictError):
            accounts.create_user(s, "bob", "another-password")


def test_project_roles_are_enforced(db_factory: sessionmaker[Session]) -> None:
    with db_factory.begin() as s:
        ann = accounts.actor_of(accounts.create_user(s, "ann", "password-1"))
        mgr = accounts.actor_of(accounts.create_user(s, "meg", "password-2"))
        outsider = accounts.actor_of(accounts.create_user(s, "otto", "password-3"))
        project = projects.create_project(s, SYSTEM, "streets")
        projects.set_member(s, SYSTEM, project.id, "meg", Role.MANAGER)
        projects.set_member(s, mgr, project.id, "ann", Role.ANNOTATOR)
        with pytest.raises(ForbiddenError):
            projects.create_project(s, mgr, "not allowed")
        with pytest.raises(ForbiddenError):
            projects.set_member(s, ann, project.id, "otto", Role.MANAGER)
        with pytest.raises(NotFoundError):
            require_role(s, outsider, project.id, frozenset({Role.ANNOTATOR}))
        assert require_role(s, ann, project.id, frozenset({Role.ANNOTATOR})) == Role.ANNOTATOR
        assert [p.name for p in projects.list_projects(s, ann)] == ["streets"]
        assert projects.list_projects(s, outsider) == []
        assert projects.list_members(s, mgr, project.id) == [
            ("ann", "annotator", None),
            ("meg", "manager", None),
        ]
