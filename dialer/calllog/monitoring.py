"""The monitoring log: each time a supervisor listened in on, whispered to or barged into a call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime

MODES = ("listen", "whisper", "barge")
ACTIONS = (*MODES, "stop")


class MonitorAction(Base):
    """One supervisor action on one call: joined in a mode, changed mode, or stopped."""

    __tablename__ = "monitor_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(Integer, index=True)
    supervisor: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # listen | whisper | barge | stop
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def log_action(session: Session, *, attempt_id: int, supervisor: str, agent: str, action: str,
               at: datetime) -> MonitorAction:
    """Store one action (the caller commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown monitoring action {action!r} (expected one of {', '.join(ACTIONS)})")
    row = MonitorAction(attempt_id=attempt_id, supervisor=supervisor, agent=agent, action=action, at=at)
    session.add(row)
    return row


def actions_on(session: Session, attempt_id: int) -> list[dict[str, object]]:
    """The actions on one call in the order they happened: supervisor, action, at (aware datetime)."""
    rows = session.scalars(select(MonitorAction).where(MonitorAction.attempt_id == attempt_id)
                           .order_by(MonitorAction.at, MonitorAction.id))
    return [{"supervisor": r.supervisor, "action": r.action, "at": r.at} for r in rows]
