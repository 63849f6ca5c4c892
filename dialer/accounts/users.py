"""Accounts service: users with argon2 passwords, API tokens and login sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import USER_ROLES, ApiToken, LoginSession, User
from .passwords import DUMMY_HASH, check, is_hash, make_hash

LANGUAGES = ("nl", "en")
NO_PASSWORD = "!"  # not an argon2 hash: nobody can log in with a password (service users)


class AccountError(ValueError):
    """A user or token request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Identity:
    """Who is making a request: the user's name, role and preferences."""

    id: int
    name: str
    role: str
    language: str | None
    email: str | None
    agent_line: str | None

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may do what supervisors do."""
        return self.role in ("supervisor", "admin")


def identity(user: User) -> Identity:
    """The plain identity of a user row."""
    return Identity(user.id, user.name, user.role, user.language, user.email, user.agent_line)


def sha256(token: str) -> str:
    """The hex SHA-256 of a token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of a password (empty passwords are refused)."""
    if not password:
        raise AccountError("the password must not be empty")
    return make_hash(password)


def add_user(session: Session, name: str, role: str, password: str | None, *, now: datetime,
             email: str | None = None, agent_line: str | None = None, language: str | None = None) -> User:
    """Create a user; `password=None` makes a service user that cannot log in with a password."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a user name is 1 to 64 characters")
    if role not in USER_ROLES:
        raise AccountError(f"role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    if language is not None and language not in LANGUAGES:
        raise AccountError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AccountError(f"a user named {name!r} already exists")
    user = User(name=name, role=role, password_hash=NO_PASSWORD if password is None else hash_password(password),
                email=email or None, agent_line=agent_line or None, language=language, created_at=now)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, name: str) -> User | None:
    """The user with this name, or None."""
    return session.scalar(select(User).where(User.name == name))


def verify_password(session: Session, name: str, password: str) -> User | None:
    """The enabled user if name and password match, else None (in about the same time either way; no limits)."""
    user = find_user(session, name)
    stored = user.password_hash if user is not None and is_hash(user.password_hash) else DUMMY_HASH
    ok, new_hash = check(stored, password)
    if not ok or user is None or stored is DUMMY_HASH or not user.enabled:
        return None
    if new_hash is not None:
        user.password_hash = new_hash
    return user


def create_token(session: Session, user: User, name: str, *, now: datetime,
                 expires_at: datetime | None = None) -> str:
    """A new bearer token for `user` (valid until `expires_at` if given); returned once, only its SHA-256 is stored."""
    token = "bb_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:64], token_sha256=sha256(token), created_at=now,
                         expires_at=expires_at))
    session.flush()
    return token


def token_user(session: Session, token: str, *, now: datetime) -> User | None:
    """The enabled user a live bearer token acts as, or None; notes when it was last used."""
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_sha256 == sha256(token))).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now) or not user.enabled:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now  # at most once a minute: a busy client must not write on every call
    return user


@dataclass(frozen=True)
class NewSession:
    """A fresh login session: the cookie value (shown once) and its CSRF token."""

    token: str
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, user: User, *, now: datetime, hours: float) -> NewSession:
    """Start a login session for `user`; the database keeps only the token's SHA-256."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at < now))
    session.add(LoginSession(token_sha256=sha256(token), user_id=user.id, csrf_token=csrf, created_at=now,
                             expires_at=expires))
    session.flush()
    return NewSession(token, csrf, expires)


def session_login(session: Session, token: str, *, now: datetime) -> tuple[User, str, datetime] | None:
    """The user, CSRF token and expiry of a live login session, or None if unknown or expired."""
    found = session.execute(select(LoginSession.expires_at, LoginSession.csrf_token, User)
                            .join(User, User.id == LoginSession.user_id)
                            .where(LoginSession.token_sha256 == sha256(token))).first()
    if found is None or found.expires_at <= now or not found.User.enabled:
        return None
    return found.User, found.csrf_token, found.expires_at


def close_session(session: Session, token: str) -> None:
    """End a login session (log out)."""
    session.execute(delete(LoginSession).where(LoginSession.token_sha256 == sha256(token)))


def set_language(session: Session, user_id: int, language: str) -> None:
    """Remember a user's UI language."""
    if language not in LANGUAGES:
        raise AccountError(f"language must be one of {', '.join(LANGUAGES)}")
    user = session.get(User, user_id)
    if user is not None:
        user.language = language


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))
