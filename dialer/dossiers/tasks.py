"""Work for people that is not a call: escalations, written reminders, coaching."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime

TASK_KINDS = ("escalation", "written_reminder", "collection_agency", "send_invoice_copy", "check_payment",
              "coaching", "return_call_overdue")
TASK_STATUSES = ("open", "done", "cancelled")


class Task(Base):
    """A to-do for an agent or for the supervisors, with the decision taken on it."""

    __tablename__ = "tasks"
    __table_args__ = (Index(None, "status", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    agent: Mapped[str | None] = mapped_column(String(64))  # assignee; None with role → everyone in that role
    role: Mapped[str | None] = mapped_column(String(16))  # e.g. "supervisor"
    title: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id", ondelete="SET NULL"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    decision: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
