"""The day book: each closed day's report figures per agent, kept once counted, and forgotten when they change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from ..calllog.attempt import Attempt
from ..storage.base import Base
from ..storage.columns import UTCDateTime


class DayFigures(Base):
    """One closed day's figures per agent (tally.Figures), and what they were counted under."""

    __tablename__ = "report_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    starts: Mapped[datetime] = mapped_column(UTCDateTime)  # the day in UTC: a change at a moment finds its day
    ends: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(String(64))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)


def forget(connection: Connection, moment: datetime) -> None:
    """A change to the figures of the day that holds `moment`: it is counted again when next asked for."""
    connection.execute(delete(DayFigures).where(DayFigures.starts <= moment, DayFigures.ends > moment))


def forget_call(connection: Connection, attempt_id: int | None) -> None:
    """A change to a call's figures (answered, wrapped up, a promise made in it): its day is counted again."""
    if attempt_id is None:
        return
    placed = select(Attempt.created_at).where(Attempt.id == attempt_id).scalar_subquery()
    connection.execute(delete(DayFigures).where(DayFigures.starts <= placed, DayFigures.ends > placed))


def forget_since(connection: Connection, moment: datetime) -> None:
    """A state stretch closed or begun at `moment`: the days it may run into are counted again."""
    connection.execute(delete(DayFigures).where(DayFigures.ends > moment))
