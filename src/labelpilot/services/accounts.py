"""Users, passwords, personal API tokens and browser login sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from labelpilot.services.actors import Actor
from labelpilot.services.errors import ConflictError, InvalidError, NotFoundError, UnauthenticatedError
from labelpilot.store.tables import ApiToken, LoginSession, User

# scrypt parameters: ~16 MiB and a few tens of ms per check; slow enough against guessing.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8
TOKEN_USE_RESOLUTION = timedelta(minutes=5)
"""How stale ``ApiToken.last_used_at`` may get before a request records a new use."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def _hash_token(token: str) -> str:
    # Tokens are long random strings: a fast hash is enough and makes lookups indexable.
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, name=user.name, is_admin=user.is_admin)


def create_user(session: Session, name: str, password: str | None, *, is_admin: bool = False) -> User:
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidError("a user name needs 1 to 80 characters", field="name")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ConflictError(f"user {name!r} already exists")
    user = User(name=name, password_hash=hash_password(password) if password else None, is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def get_user_by_name(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(f"user {name!r} not found")
    return user


def authenticate(session: Session, name: str, password: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None or not verify_password(password, user.password_hash):
        raise UnauthenticatedError("wrong user name or password")
    return user


def create_api_token(session: Session, user: User, name: str) -> str:
    """A new personal token; only its hash is stored, so it is shown once."""
    token = "lp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_hash_token(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None:
        raise UnauthenticatedError("unknown API token")
    now = datetime.now(UTC)
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    # Writing on every request would make every read take a write lock; minute precision is plenty.
    if last is None or now - last > TOKEN_USE_RESOLUTION:
        row.last_used_at = now
    user = session.get(User, row.user_id)
    if user is None:  # pragma: no cover - the foreign key cascades
        raise UnauthenticatedError("unknown API token")
    return user


@dataclass(frozen=True)
class NewLoginSession:
    token: str
    csrf_token: str
    expires_at: datetime


def start_login_session(session: Session, user: User, hours: float) -> NewLoginSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    session.add(
        LoginSession(user_id=user.id, token_hash=_hash_token(token), csrf_token=csrf, expires_at=expires)
    )
    session.flush()
    return NewLoginSession(token, csrf, expires)


def user_for_login_session(session: Session, token: str) -> tuple[User, str]:
    """The user and the CSRF token of a live login session."""
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _hash_token(token)))
    if row is None:
        raise UnauthenticatedError("not logged in")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        raise UnauthenticatedError("the session has expired; log in again")
    user = session.get(User, row.user_id)
    if user is None:  # pragma: no cover - the foreign key cascades
        raise UnauthenticatedError("not logged in")
    return user, row.csrf_token


def end_login_session(session: Session, token: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == _hash_token(token)))
