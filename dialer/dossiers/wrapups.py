"""The wrap-up of a call as data: its outcome, the escalation chosen, the agreement and call-back it made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime


class WrapUpRecord(Base):
    """One saved wrap-up; the note `[outcome] text` beside it is for people, this row is for queries."""

    __tablename__ = "wrapups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    agent: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
    escalation: Mapped[str | None] = mapped_column(String(24))  # the task it raised, if any
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
