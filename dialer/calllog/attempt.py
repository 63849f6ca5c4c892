"""SQLAlchemy models of the call log: one row per dial attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, ScalarSelect, String, false, select
from sqlalchemy.orm import Mapped, mapped_column, validates

from ..storage.base import Base
from ..storage.columns import UTCDateTime, require_aware

STATES = ("dialing", "ringing", "answered", "ended")
OUTCOMES = frozenset(
    {
        "answered",
        "busy",
        "no_answer",
        "declined",
        "not_found",
        "unavailable",
        "anonymity_rejected",
        "network_error",
        "cancelled",
        "interrupted",
        "failed",
    }
)
SIP_CODE_SOURCES = frozenset({"wire", "local"})


class Attempt(Base):
    """One dial attempt: a truthful row committed before the INVITE leaves."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_state", "state"),
        Index("ix_attempts_number_created_at", "number", "created_at"),
        # A dossier's calls, latest first: stops after the few shown, however many calls a debtor has had
        # (it replaces the single-column index of 0001, which it covers).
        Index("ix_attempts_debtor_ref_id", "debtor_ref", "id"),
        # A day's calls, for the reports' day book.
        Index("ix_attempts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    debtor_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_id: Mapped[str] = mapped_column(String(32), nullable=False)
    caller_id_withheld: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ringing_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    sip_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sip_reason: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sip_code_source: Mapped[str | None] = mapped_column(String(8), nullable=True)
    recording_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sip_call_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    coordinator: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # out: we dialled; in: the debtor called and was put through to an agent.
    direction: Mapped[str] = mapped_column(String(3), nullable=False, default="out", server_default="out")

    @validates("created_at", "ringing_at", "answered_at", "ended_at")
    def _validate_time(self, key: str, value: datetime | None) -> datetime | None:
        # Fail at assignment, not at flush where SQLAlchemy wraps the error.
        return None if value is None else require_aware(value)

    @property
    def duration_s(self) -> float | None:
        """Seconds from answer to end, rounded to 0.1; None if never answered."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.answered_at).total_seconds(), 1)

    def to_json(self) -> dict[str, Any]:
        """Return the attempt as a JSON-ready dict (times in ISO 8601 with offset)."""
        return {
            "attempt_id": self.id,
            "number": self.number,
            "debtor_ref": self.debtor_ref,
            "contact_ref": self.contact_ref,
            "agent": self.agent,
            "caller_id": self.caller_id,
            "caller_id_withheld": self.caller_id_withheld,
            "state": self.state,
            "outcome": self.outcome,
            "sip_code": self.sip_code,
            "sip_reason": self.sip_reason,
            "sip_code_source": self.sip_code_source,
            "created_at": _iso(self.created_at),
            "ringing_at": _iso(self.ringing_at),
            "answered_at": _iso(self.answered_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
            "recording": self.recording_path,
            "worker": self.worker,
            "sip_call_id": self.sip_call_id,
        }

    def __repr__(self) -> str:
        return f"<Attempt {self.id} {self.number} {self.state} {self.outcome}>"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def placed_at(attempt_id: int) -> ScalarSelect[datetime]:
    """When attempt `attempt_id` was placed, as a subquery: a statement about its day (the day book) uses it."""
    return select(Attempt.created_at).where(Attempt.id == attempt_id).scalar_subquery()
