"""The team's do-not-call list: numbers never to be phoned, checked by the queue at the moment of dialling."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime

RULE = "dnc_list"  # the rule id in the queue's exclusions and in `belblok dial`'s refusal


class DoNotCall(Base):
    """One number (E.164) on the list, with where it came from."""

    __tablename__ = "dnc_numbers"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(255))  # the file it was imported from, or who added it
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


def add_numbers(session: Session, numbers: Iterable[str], *, source: str, now: datetime) -> tuple[int, int]:
    """Put E.164 numbers on the list (the caller commits); (added, already on it)."""
    wanted = sorted(set(numbers))
    present: set[str] = set()
    for start in range(0, len(wanted), 500):
        present.update(session.scalars(select(DoNotCall.number).where(
            DoNotCall.number.in_(wanted[start:start + 500]))))
    fresh = [n for n in wanted if n not in present]
    session.add_all(DoNotCall(number=n, source=source[:255], added_at=now) for n in fresh)
    session.flush()
    return len(fresh), len(present)


def remove_number(session: Session, number: str) -> bool:
    """Take a number off the list; whether it was on it."""
    return bool(session.execute(delete(DoNotCall).where(DoNotCall.number == number)).rowcount)  # type: ignore[attr-defined]


def barred(session: Session, number: str) -> bool:
    """Whether `number` (E.164) is on the list."""
    return session.get(DoNotCall, number) is not None


def listing(session: Session) -> list[DoNotCall]:
    """Every number on the list, in order."""
    return list(session.scalars(select(DoNotCall).order_by(DoNotCall.number)))
