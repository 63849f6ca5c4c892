"""A user's life after `user add`: disabled and enabled, a new password, deleted; their tokens listed and revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .models import ApiToken, LoginSession, User
from .users import AccountError, find_user


def existing(session: Session, name: str) -> User:
    """The user named `name`; AccountError if there is none."""
    user = find_user(session, name)
    if user is None:
        raise AccountError(f"no user named {name!r}")
    return user


def end_access(session: Session, user: User, *, now: datetime, keep_session: str | None = None) -> None:
    """End every login session of `user` (but the one whose SHA-256 is `keep_session`) and revoke their tokens."""
    sessions = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session is not None:
        sessions = sessions.where(LoginSession.token_sha256 != keep_session)
    session.execute(sessions)
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now))


def set_enabled(session: Session, name: str, enabled: bool, *, now: datetime) -> User:
    """Enable or disable a user; disabling ends their sessions and tokens at once."""
    user = existing(session, name)
    user.enabled = enabled
    if not enabled:
        end_access(session, user, now=now)
    return user


def set_password_hash(session: Session, name: str, password_hash: str, *, now: datetime,
                      keep_session: str | None = None) -> User:
    """Store a new password (its argon2 hash); every other session and every token of the user ends."""
    user = existing(session, name)
    user.password_hash = password_hash
    end_access(session, user, now=now, keep_session=keep_session)
    return user


def delete_user(session: Session, name: str) -> None:
    """Delete a user with their sessions and tokens (the caller has dealt with their open work)."""
    user = existing(session, name)
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.delete(user)
    session.flush()


@dataclass(frozen=True)
class TokenRow:
    """One API token as `token list` shows it (never the token itself)."""

    id: int
    user: str
    role: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def list_tokens(session: Session) -> list[TokenRow]:
    """Every token, by user and creation."""
    rows = session.execute(select(ApiToken, User.name, User.role).join(User, User.id == ApiToken.user_id)
                           .order_by(User.name, ApiToken.created_at, ApiToken.id))
    return [TokenRow(t.id, user, role, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at)
            for t, user, role in rows]


def revoke_tokens(session: Session, name: str, *, now: datetime, token_id: int | None = None) -> int:
    """Revoke the live tokens of user `name` (only token `token_id` if given); how many were revoked."""
    user = existing(session, name)
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        if session.scalar(select(ApiToken.id).where(ApiToken.id == token_id, ApiToken.user_id == user.id)) is None:
            raise AccountError(f"user {name!r} has no token {token_id}")
        query = query.where(ApiToken.id == token_id)
    return session.execute(query.values(revoked_at=now)).rowcount or 0
