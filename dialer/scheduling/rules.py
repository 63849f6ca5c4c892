"""Scheduling rules on plain dates and times: business days, calling blocks, due moments and call-back steps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from ..blocks.block import Block, BlockLike, openings

SEARCH_DAYS = 31  # a team with calling blocks calls at least once a month
_CLOCK_ONLY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DAY = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$")


class WhenError(ValueError):
    """A date or time that cannot be read; the message says what is expected."""


@dataclass(frozen=True)
class Step:
    """One moment the scheduler must act on a call-back: what, for which row, when (UTC)."""

    when: datetime
    callback_id: int
    action: str  # remind | due | release | escalate


@dataclass(frozen=True)
class CallbackState:
    """What the step rules need to know of a call-back row."""

    id: int
    kind: str
    status: str
    due_at: datetime
    agent: str | None
    reminded: bool


# -- business days ----------------------------------------------------------------


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holiday_calendars.country_holidays(country.upper(), years=year))


def is_business_day(day: date, country: str) -> bool:
    """Monday to Friday and not a public holiday of `country` (per the `holidays` package)."""
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def first_business_day_after(day: date, country: str) -> date:
    """The first business day strictly after `day` (handbook §6.7.4: the first day after the term expires)."""
    candidate = day + timedelta(days=1)
    while not is_business_day(candidate, country):
        candidate += timedelta(days=1)
    return candidate


# -- local time -------------------------------------------------------------------------


def zone(name: str | tzinfo) -> tzinfo:
    """A tzinfo from a zone name (or the tzinfo itself)."""
    return name if isinstance(name, tzinfo) else ZoneInfo(name)


def local_instant(day: date, clock: time, tz: str | tzinfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day (a time skipped by DST lands after the gap)."""
    return datetime.combine(day, clock, tzinfo=zone(tz)).astimezone(UTC)


def local_day(at: datetime, tz: str | tzinfo) -> date:
    """The local calendar date of an instant."""
    return at.astimezone(zone(tz)).date()


def return_deadline(created: datetime, blocks: Sequence[Block | BlockLike], tz: str | tzinfo,
                    country: str) -> datetime:
    """By when a return call asked for at `created` must have been made (seed 002, do 10: the same day).

    The end of the day's last calling block (the blocks in force: weekly, one-off, public holidays of
    `country` closed); when that has passed, or the day has none, the end of the last block of the next
    day that has one. A team without blocks: the end of the local day.
    """
    first = local_day(created, tz)
    last_close: dict[date, datetime] = {}
    for opening in openings(blocks, since=created, tz=zone(tz), country=country, days=SEARCH_DAYS):
        day = opening.opens.astimezone(zone(tz)).date()
        if day < first:
            continue  # yesterday's block running past midnight
        if last_close and day > min(last_close):
            break
        last_close[day] = max(last_close.get(day, opening.closes), opening.closes)
    if last_close:
        return last_close[min(last_close)]
    return local_instant(first + timedelta(days=1), time(0), tz)


def follow_up_due(due_date: date, country: str, tz: str | tzinfo) -> datetime:
    """When a promise follow-up call becomes due: the start (local midnight) of the first business day after."""
    return local_instant(first_business_day_after(due_date, country), time(0), tz)


# -- reading what people type --------------------------------------------------------------


def parse_when(text: str, tz: str | tzinfo, now: datetime) -> datetime:
    """An ISO 8601 moment: with an offset it is taken as is, without one it is the team's local time.

    'HH:MM' alone means today (local). The result is UTC.
    """
    value = text.strip()
    if match := _CLOCK_ONLY.match(value):
        return local_instant(local_day(now, tz), time(int(match[1]), int(match[2])), tz)
    if _ISO_DAY.match(value) or _DMY_DAY.match(value):
        raise WhenError(f"{text!r} has no time of day: write e.g. 2026-03-02T16:30 or 2026-03-02T16:30+01:00")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise WhenError(f"{text!r} is not an ISO 8601 date and time (e.g. 2026-03-02T16:30)") from None
    if len(value) <= 10:  # fromisoformat reads a bare date as midnight
        raise WhenError(f"{text!r} has no time of day: write e.g. 2026-03-02T16:30")
    if moment.tzinfo is None:
        return _wall_clock(moment, zone(tz))
    return moment.astimezone(UTC)


def parse_day(text: str) -> date:
    """A calendar date written yyyy-mm-dd (ISO 8601) or dd-mm-yyyy (also with / or . between)."""
    value = text.strip()
    if match := _ISO_DAY.match(value):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _DMY_DAY.match(value):
        year, month, day = int(match[4]), int(match[3]), int(match[1])
    else:
        raise WhenError(f"{text!r} is not a date (write 2026-03-02 or 02-03-2026)")
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(f"{text!r} is not a valid date") from None


def _wall_clock(local: datetime, tz: tzinfo) -> datetime:
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != local:
        raise WhenError(f"{local:%Y-%m-%d %H:%M} does not exist in {tz} (the clocks skip it)")
    return aware.astimezone(UTC)


# -- call-back steps --------------------------------------------------------------------------


def steps_for(row: CallbackState, *, remind: timedelta, grace: timedelta,
              deadline: datetime | None = None) -> list[Step]:
    """The moments the scheduler still has to act on this row, in time order (empty when it is settled).

    appointment: remind the owner `remind` before (once), claim and announce at the due time, and
    `grace` after it release an unattended one to anyone. return: claim and announce at the due time,
    escalate at `deadline` if still open. follow_up: claim and announce at the due time.
    """
    steps: list[Step] = []
    if row.status == "pending":
        if row.kind == "appointment" and row.agent is not None and remind > timedelta(0) and not row.reminded:
            steps.append(Step(row.due_at - remind, row.id, "remind"))
        steps.append(Step(row.due_at, row.id, "due"))
    if row.status in ("pending", "claimed"):
        if row.kind == "appointment" and row.agent is not None:
            steps.append(Step(row.due_at + grace, row.id, "release"))
        if row.kind == "return" and deadline is not None:
            steps.append(Step(deadline, row.id, "escalate"))
    return sorted(steps, key=lambda s: s.when)
