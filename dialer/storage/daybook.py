"""The day book: each closed day's report figures per agent, kept once counted, and forgotten when they change.

It lives with the storage, below every package that writes calls, wrap-ups, promises and states: each of them
forgets the day its change falls in; dialer.reports counts and reads the days.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Date, String, delete
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .columns import UTCDateTime


class DayFigures(Base):
    """One closed day's figures per agent (tally.Figures), and what they were counted under."""

    __tablename__ = "report_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    starts: Mapped[datetime] = mapped_column(UTCDateTime)  # the day in UTC: a change at a moment finds its day
    ends: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(String(64))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)


def forget(connection: Connection, moment: datetime | ColumnElement[datetime]) -> None:
    """A change to the figures of the day that holds `moment` (or a subquery giving it, such as a call's placing)."""
    connection.execute(delete(DayFigures).where(DayFigures.starts <= moment, DayFigures.ends > moment))


def forget_since(connection: Connection, moment: datetime) -> None:
    """A state stretch closed or begun at `moment`: the days it may run into are counted again."""
    connection.execute(delete(DayFigures).where(DayFigures.ends > moment))
