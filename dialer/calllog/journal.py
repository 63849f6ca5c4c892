"""The call log: a journal of dial attempts, one short transaction per event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..storage import daybook
from ..storage.columns import require_aware
from .attempt import OUTCOMES, SIP_CODE_SOURCES, Attempt, placed_at

# Each transition is one conditional UPDATE, so two events racing on one row
# (or two coordinators on one PostgreSQL) can never move a state backwards.
_BEFORE_RINGING = ("dialing",)
_BEFORE_ANSWERED = ("dialing", "ringing")


class CallLog:
    """The attempt journal: every call is written before it is dialled."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @property
    def engine(self) -> Engine:
        """The database engine the call log writes to."""
        return self._sessions.kw["bind"]

    def open_attempt(
        self,
        *,
        number: str,
        caller_id: str,
        caller_id_withheld: bool,
        at: datetime,
        agent: str | None = None,
        debtor_ref: str | None = None,
        contact_ref: str | None = None,
        worker: str | None = None,
        coordinator: str | None = None,
        direction: str = "out",
    ) -> int:
        """Commit a new attempt in state dialing (an incoming one: ringing) and return its id."""
        _check_length("number", number, 32)
        _check_length("caller_id", caller_id, 32)
        attempt = Attempt(
            number=number,
            caller_id=caller_id,
            caller_id_withheld=caller_id_withheld,
            state="dialing" if direction == "out" else "ringing",
            direction=direction,
            created_at=require_aware(at),
            agent=agent,
            debtor_ref=debtor_ref,
            contact_ref=contact_ref,
            worker=worker,
            coordinator=coordinator,
        )
        # Committed here, before the INVITE leaves: a crash at any later
        # moment still leaves a row that says a call was being made.
        with self._sessions.begin() as session:
            session.add(attempt)
            session.flush()
            daybook.forget(session.connection(), at)
            return attempt.id

    def mark_ringing(self, attempt_id: int, at: datetime) -> bool:
        """Record the first ringing; return False if the attempt was past it."""
        return self._transition(
            attempt_id,
            _BEFORE_RINGING,
            state="ringing",
            ringing_at=require_aware(at),
        )

    def mark_answered(self, attempt_id: int, at: datetime) -> bool:
        """Record the answer; return False if already answered or ended."""
        return self._transition(
            attempt_id,
            _BEFORE_ANSWERED,
            # In the same transaction: the call's day in the day book counts it answered from now on.
            then=lambda session: daybook.forget(session.connection(), placed_at(attempt_id)),
            state="answered",
            answered_at=require_aware(at),
        )

    def mark_ended(
        self,
        attempt_id: int,
        *,
        at: datetime,
        outcome: str,
        sip_code: int | None,
        sip_reason: str | None,
        sip_code_source: str | None,
        sip_call_id: str | None = None,
    ) -> bool:
        """End the attempt with its outcome; return False if it had already ended."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}: expected one of {sorted(OUTCOMES)}")
        if sip_code_source is not None and sip_code_source not in SIP_CODE_SOURCES:
            raise ValueError(f"unknown sip_code_source {sip_code_source!r}: expected wire or local")
        values: dict[str, Any] = {
            "state": "ended",
            "ended_at": require_aware(at),
            "outcome": outcome,
            "sip_code": sip_code,
            # Reason phrase and Call-ID come off the wire: a long one must not
            # make PostgreSQL refuse the row that ends the call.
            "sip_reason": _clip(sip_reason, 128),
            "sip_code_source": sip_code_source,
        }
        if sip_call_id is not None:
            values["sip_call_id"] = _clip(sip_call_id, 128)
        return self._transition(attempt_id, ("dialing", "ringing", "answered"), **values)

    def set_worker(self, attempt_id: int, worker: str | None) -> None:
        """Record which worker process handles the attempt."""
        self._set(attempt_id, worker=worker)

    def set_recording(self, attempt_id: int, path: str | None) -> None:
        """Record the path of the attempt's recording (even after it ended)."""
        self._set(attempt_id, recording_path=path)

    def get(self, attempt_id: int) -> Attempt:
        """Return one attempt; raise KeyError if there is none with this id."""
        with self._sessions() as session:
            attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise KeyError(attempt_id)
        return attempt

    def recent(self, limit: int = 20) -> list[Attempt]:
        """Return the newest attempts first."""
        query = select(Attempt).order_by(Attempt.created_at.desc(), Attempt.id.desc())
        with self._sessions() as session:
            return list(session.scalars(query.limit(limit)))

    def interrupt_orphans(
        self, *, at: datetime, coordinator_alive: Callable[[str], bool]
    ) -> list[int]:
        """End the unfinished attempts of dead coordinators as interrupted; return their ids."""
        require_aware(at)
        with self._sessions() as session:
            owners = session.scalars(
                select(Attempt.coordinator)
                .where(Attempt.state != "ended", Attempt.coordinator.is_not(None))
                .distinct()
            ).all()
        # Asked outside any transaction: the check may be slow (a signal, a
        # network probe) and must not hold a lock on the log.
        dead = [owner for owner in owners if owner is not None and not coordinator_alive(owner)]
        if not dead:
            return []
        statement = (
            update(Attempt)
            .where(Attempt.state != "ended", Attempt.coordinator.in_(dead))
            .values(
                state="ended",
                ended_at=at,
                outcome="interrupted",
                sip_code=None,
                sip_reason="coordinator stopped",
                sip_code_source="local",
            )
            .returning(Attempt.id)
            .execution_options(synchronize_session=False)
        )
        with self._sessions.begin() as session:
            return sorted(session.scalars(statement).all())

    def _transition(self, attempt_id: int, allowed: tuple[str, ...], *,
                    then: Callable[[Session], object] | None = None, **values: Any) -> bool:
        statement = (
            update(Attempt)
            .where(Attempt.id == attempt_id, Attempt.state.in_(allowed))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        with self._sessions.begin() as session:
            if _rowcount(session, statement):
                if then is not None:
                    then(session)
                return True
            _require_exists(session, attempt_id)
            return False

    def _set(self, attempt_id: int, **values: Any) -> None:
        statement = (
            update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        with self._sessions.begin() as session:
            if not _rowcount(session, statement):
                raise KeyError(attempt_id)


def _rowcount(session: Session, statement: Any) -> int:
    result: Any = session.execute(statement)
    return int(result.rowcount)


def _require_exists(session: Session, attempt_id: int) -> None:
    if session.scalar(select(Attempt.id).where(Attempt.id == attempt_id)) is None:
        raise KeyError(attempt_id)


def _check_length(name: str, value: str, limit: int) -> None:
    if not value or len(value) > limit:
        raise ValueError(f"{name} must be 1 to {limit} characters, got {value!r}")


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]
