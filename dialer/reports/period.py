"""A report's period: whole days in the team's time zone, from the first to the last included (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 366 * 5


class PeriodError(ValueError):
    """A period that cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Period:
    """From `first` to `last` (both included), in `zone`."""

    first: date
    last: date
    zone: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(f"the period ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first).days >= MAX_DAYS:
            raise PeriodError(f"a period is at most {MAX_DAYS} days")

    @property
    def starts(self) -> datetime:
        """The first moment of the period, in UTC."""
        return datetime.combine(self.first, time(0), ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def ends(self) -> datetime:
        """The first moment after the period, in UTC."""
        return datetime.combine(self.last + timedelta(days=1), time(0), ZoneInfo(self.zone)).astimezone(UTC)

    def each_day(self) -> list[Period]:
        """The period's days, each a period of its own, in order."""
        return [Period(self.first + timedelta(d), self.first + timedelta(d), self.zone)
                for d in range((self.last - self.first).days + 1)]

    def to_json(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.zone}


def parse_period(first: str, last: str, zone: str) -> Period:
    """A period from two ISO dates (2026-03-01), or PeriodError naming the bad one."""
    days = []
    for name, text in (("--from", first), ("--to", last)):
        try:
            days.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise PeriodError(f"{name} {text!r} is not a date: write YYYY-MM-DD, e.g. 2026-03-01") from None
    return Period(days[0], days[1], zone)


def steps(period: Period) -> tuple[str, list[Period]]:
    """The period cut for a chart: by day up to 5 weeks, by week up to 6 months, else by month."""
    days = (period.last - period.first).days + 1
    if days <= 35:
        return "day", period.each_day()
    cuts: list[Period] = []
    first = period.first
    while first <= period.last:
        if days <= 183:
            last = first + timedelta(days=6 - first.weekday())  # to Sunday: weeks as the calendar has them
        else:
            following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
            last = following - timedelta(days=1)
        last = min(last, period.last)
        cuts.append(Period(first, last, period.zone))
        first = last + timedelta(days=1)
    return ("week" if days <= 183 else "month"), cuts


def this_week(today: date, zone: str) -> Period:
    """Monday of today's week up to today."""
    return Period(today - timedelta(days=today.weekday()), today, zone)
