"""E-mail we sent (or tried to send) to debtors: the record of every confirmation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime


class SentEmail(Base):
    """One outgoing e-mail and what became of it."""

    __tablename__ = "emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | sent | failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
