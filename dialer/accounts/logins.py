"""Logging in: failed-login limits per account and per address (kept in the database), and the login log."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import LoginEvent, LoginFailure, User
from .passwords import DUMMY_HASH, is_hash

log = logging.getLogger("dialer.accounts.logins")

EVENTS_KEPT = timedelta(days=90)  # how long the login log keeps its rows


@dataclass(frozen=True)
class Limits:
    """How many failures a key may have within `window` before it is locked."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Locked:
    """A login refused before any hash is computed: too many recent failures."""

    retry_after: timedelta

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, at least one."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))

    @property
    def seconds(self) -> int:
        """Whole seconds to wait, at least one (the Retry-After header)."""
        return max(1, math.ceil(self.retry_after.total_seconds()))


@dataclass(frozen=True)
class Ticket:
    """A login let through to the password check; its failure rows stand until the password proves right."""

    name: str
    address: str
    user_id: int | None
    stored_hash: str  # the user's argon2 hash, or a dummy one, so every check costs the same
    enabled: bool
    row_ids: tuple[int, int]  # the provisional failures of the account key and the address key


def account_key(name: str) -> str:
    """The limiter key of an account name (case-folded: `Anna` and `anna` share their failures)."""
    return "user:" + name.casefold()[:100]


def address_key(address: str) -> str:
    """The limiter key of a client address."""
    return "addr:" + address[:100]


def _locked(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> timedelta | None:
    """How long `key` stays locked, or None when it has fewer than `limit` failures within `window`."""
    recent = list(session.scalars(select(LoginFailure.at).where(LoginFailure.key == key,
                                                                LoginFailure.at > now - window)
                                  .order_by(LoginFailure.at.desc()).limit(limit)))
    if len(recent) < limit:
        return None
    return recent[limit - 1] + window - now  # when the oldest of the last `limit` failures ages out


def admit(session: Session, name: str, address: str, *, limits: Limits, now: datetime) -> Ticket | Locked:
    """Let a login through to the (costly) password check, or refuse it while its account or address is locked.

    The attempt is counted as a failure before the hash is computed, so concurrent guesses are counted too;
    `settle` takes the rows back when the password was right.
    """
    name = name[:64]
    keys = (account_key(name), address_key(address))
    waits = [wait for wait in (_locked(session, keys[0], limits.per_account, limits.window, now),
                               _locked(session, keys[1], limits.per_address, limits.window, now)) if wait]
    if waits:
        locked = Locked(max(waits))
        log.warning("login refused for %r from %s at %s: locked for %d more minute(s)", name, address,
                    now.isoformat(), locked.minutes)
        return locked
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - limits.window))  # keep the table small
    rows = [LoginFailure(key=key, at=now) for key in keys]
    session.add_all(rows)
    session.flush()
    user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user is not None and is_hash(user.password_hash) else DUMMY_HASH
    return Ticket(name, address, user.id if user else None, stored, bool(user and user.enabled),
                  (rows[0].id, rows[1].id))


def settle(session: Session, ticket: Ticket, *, password_ok: bool, now: datetime,
           new_hash: str | None = None, demo: bool = False) -> User | None:
    """Record how a checked login went; the user when it succeeded (failures of the account cleared).

    A user the demo made (its password is published) succeeds only in the demo (`demo=True`); elsewhere it is
    a failure like a wrong password.
    """
    user = session.get(User, ticket.user_id) if ticket.user_id is not None else None
    ok = password_ok and user is not None and user.enabled and ticket.stored_hash != DUMMY_HASH \
        and (demo or not user.demo)
    if ok:
        assert user is not None
        session.execute(delete(LoginFailure).where(LoginFailure.key == account_key(ticket.name)))
        session.execute(delete(LoginFailure).where(LoginFailure.id == ticket.row_ids[1]))
        user.last_login_at = now
        if new_hash is not None:
            user.password_hash = new_hash
        outcome = "ok"
        log.info("login of %r from %s at %s", ticket.name, ticket.address, now.isoformat())
    else:
        outcome = "unknown_user" if user is None else "disabled" if not user.enabled else \
            "demo_user" if password_ok and user.demo and not demo else "wrong_password"
        log.warning("login failed for %r from %s at %s (%s)", ticket.name, ticket.address, now.isoformat(),
                    outcome)
    _record(session, ticket.name, ticket.address, outcome, now)
    return user if ok else None


def confirm(session: Session, ticket: Ticket, *, password_ok: bool, now: datetime) -> bool:
    """Record a signed-in user's password re-check (changing it): failures count like failed logins."""
    ok = password_ok and ticket.enabled and ticket.stored_hash != DUMMY_HASH
    if ok:
        session.execute(delete(LoginFailure).where(LoginFailure.id.in_(ticket.row_ids)))
    else:
        log.warning("password check failed for %r from %s at %s", ticket.name, ticket.address, now.isoformat())
        _record(session, ticket.name, ticket.address, "wrong_password", now)
    return ok


def record_locked(session: Session, name: str, address: str, now: datetime) -> None:
    """Note a refused login in the login log (one row per minute and address at most: a flood stays small)."""
    recent = session.scalar(select(func.count()).select_from(LoginEvent).where(
        LoginEvent.address == address[:64], LoginEvent.outcome == "locked", LoginEvent.at > now - timedelta(minutes=1)))
    if not recent:
        _record(session, name[:64], address, "locked", now)


def _record(session: Session, name: str, address: str, outcome: str, now: datetime) -> None:
    session.execute(delete(LoginEvent).where(LoginEvent.at < now - EVENTS_KEPT))
    session.add(LoginEvent(at=now, name=name[:64], address=address[:64], outcome=outcome))


def recent_events(session: Session, *, failed_only: bool = False, limit: int = 50) -> list[LoginEvent]:
    """The latest logins tried, newest first."""
    query = select(LoginEvent).order_by(LoginEvent.at.desc(), LoginEvent.id.desc()).limit(limit)
    if failed_only:
        query = query.where(LoginEvent.outcome != "ok")
    return list(session.scalars(query))
