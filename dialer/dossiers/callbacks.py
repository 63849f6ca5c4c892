"""Scheduled calls: appointment call-backs, same-day return calls and promise follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime

CALLBACK_KINDS = ("appointment", "return", "follow_up")
CALLBACK_STATUSES = ("pending", "claimed", "done", "cancelled", "escalated")


class Callback(Base):
    """One call that must happen at (or from) `due_at`; the database is its source of truth."""

    __tablename__ = "callbacks"
    __table_args__ = (Index(None, "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # before a policy window moved it
    moved_reason: Mapped[str | None] = mapped_column(String(255))
    agent: Mapped[str | None] = mapped_column(String(64))  # the owner; None: anyone in the team
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    # Indexed: the promise sweep looks up each open promise's calls at every start and every hour.
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"), index=True)
    source_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
