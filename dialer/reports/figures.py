"""A report's figures over a period: the day book's kept days added up, the days not yet kept counted."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..storage.daybook import DayFigures
from ..wrapup.outcomes import FLAGS
from . import tally
from .period import Period

log = logging.getLogger(__name__)
# A day is kept once it has been over this long: its last calls ended and were wrapped up meanwhile.
SETTLE = timedelta(hours=1)
VERSION = 1  # raised when the figures counted change, so days kept before are counted again


def basis(zone: str) -> str:
    """What a day's figures depend on besides the data: the time zone, the outcome flags, the version."""
    flags = ";".join(f"{name}={int(f.contact)}{int(f.right_party)}{int(f.promise)}"
                     for name, f in sorted(FLAGS.items()))
    digest = hashlib.sha256(flags.encode()).hexdigest()[:16]
    return f"{VERSION}:{zone}:{digest}"[:64]


def days(engine: Engine, period: Period, now: datetime) -> dict[date, tally.Figures]:
    """Each day of `period` up to `now`: kept figures where there are, else counted (and kept once settled)."""
    wanted = basis(period.zone)
    kept = _kept(engine, period, wanted)
    missing = [day for day in period.each_day() if day.first not in kept and day.starts < now]
    if missing:
        log.info("counting the figures of %d day(s) of %s…%s", len(missing), period.first, period.last)
    counted = {day.first: _count(engine, day, now, wanted) for day in missing}
    return dict(sorted({**kept, **counted}.items()))


def keep(engine: Engine, period: Period, now: datetime) -> int:
    """Count and keep the settled days of `period` missing from the day book; how many were."""
    wanted = basis(period.zone)
    kept = _kept(engine, period, wanted)
    missing = [day for day in period.each_day() if day.first not in kept and day.ends + SETTLE <= now]
    for day in missing:
        _count(engine, day, now, wanted)
    return len(missing)


def _kept(engine: Engine, period: Period, wanted: str) -> dict[date, tally.Figures]:
    """The day book's days of `period` counted under `wanted`."""
    with engine.connect() as connection:
        return {row.day: row.figures for row in connection.execute(
            select(DayFigures.day, DayFigures.figures).where(
                DayFigures.day >= period.first, DayFigures.day <= period.last, DayFigures.basis == wanted))}


def total(engine: Engine, period: Period, now: datetime, agent: str | None = None) -> tally.Figures:
    """The figures of `period` up to `now` added up per agent (only `agent`'s when one is named)."""
    figures: tally.Figures = {}
    for day in days(engine, period, now).values():
        tally.add(figures, day, agent)
    return figures


def _count(engine: Engine, day: Period, now: datetime, wanted: str) -> tally.Figures:
    settled = day.ends + SETTLE <= now
    with engine.begin() as connection:
        tally.without_jit(connection)
        figures = tally.count(connection, day.starts, day.ends, min(day.ends, now))
        if not settled:
            return figures
        connection.execute(delete(DayFigures).where(DayFigures.day == day.first))
        try:
            with connection.begin_nested():
                connection.execute(insert(DayFigures).values(day=day.first, starts=day.starts, ends=day.ends,
                                                             basis=wanted, figures=figures, counted_at=now))
        except IntegrityError:  # another coordinator kept the same day meanwhile: theirs counts the same data
            pass
    return figures
