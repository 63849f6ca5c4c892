"""Calling blocks (belblokken): reserved weekly or one-off time ranges in the team's zone, and when they open."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKLY = "weekly"
ONE_OFF = "one_off"
KINDS = (WEEKLY, ONE_OFF)
SEARCH_DAYS = 400  # a year ahead plus room for holidays: a block that never opens in it never opens

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class BlockError(ValueError):
    """A block or a question about blocks that cannot be answered; the message says why."""


class BlockLike(Protocol):
    """Anything with days, start and end: a `Block` or a `[[blocks]]` entry of the configuration."""

    days: Any
    start: Any
    end: Any


@dataclass(frozen=True)
class Block:
    """A reserved calling block: weekdays (or one date) with local start and end; end ≤ start runs past midnight."""

    days: tuple[str, ...]
    start: time
    end: time
    kind: str = WEEKLY
    on: date | None = None  # the date of a one-off block
    id: int | None = None  # the database row, None for a configured block
    source: str = "config"  # config | database
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BlockError(f"block kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == ONE_OFF:
            if self.on is None:
                raise BlockError("a one-off block needs its date")
            object.__setattr__(self, "days", (DAYS[self.on.weekday()],))
        else:
            days = tuple(d.lower() for d in self.days)
            if not days or any(d not in DAYS for d in days):
                raise BlockError(f"days must be some of {', '.join(DAYS)}; got {list(self.days)!r}")
            object.__setattr__(self, "days", tuple(d for d in DAYS if d in days))

    @classmethod
    def of(cls, value: Block | BlockLike) -> Block:
        """A Block from a Block or a configured `[[blocks]]` entry (start and end as 'HH:MM')."""
        if isinstance(value, Block):
            return value
        return cls(days=tuple(value.days), start=clock(value.start), end=clock(value.end))

    @property
    def overnight(self) -> bool:
        """Whether the block closes on the day after it opens (end at or before start)."""
        return self.end <= self.start

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: local times as 'HH:MM'."""
        return {"id": self.id, "kind": self.kind, "days": list(self.days), "date": _iso(self.on),
                "start": _hhmm(self.start), "end": _hhmm(self.end), "source": self.source, "note": self.note}


@dataclass(frozen=True, kw_only=True)
class Opening(Block):
    """A block on one day: the moments (UTC) it opens and closes."""

    opens: datetime
    closes: datetime

    @property
    def block(self) -> Block:
        """The block this is a day of."""
        return Block(days=self.days, start=self.start, end=self.end, kind=self.kind, on=self.on, id=self.id,
                     source=self.source, note=self.note)

    def contains(self, moment: datetime) -> bool:
        """Whether the block is open at `moment`."""
        return self.opens <= moment < self.closes

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: `start` and `end` are the ISO moments of this opening; local times beside them."""
        data = super().to_json()
        data.update(local_start=data["start"], local_end=data["end"],
                    start=self.opens.isoformat(), end=self.closes.isoformat())
        return data


@dataclass(frozen=True)
class Transition:
    """A block opening or closing at one moment."""

    at: datetime
    event: str  # open | close
    opening: Opening = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        """The detail of the live event the block clock publishes."""
        return {"event": self.event, "at": self.at.isoformat(), "block": self.opening.to_json()}


def clock(value: str | time) -> time:
    """A local time of day from 'HH:MM' (or a time, unchanged)."""
    if isinstance(value, time):
        return value
    match = _HHMM.match(str(value))
    if match is None:
        raise BlockError(f"{value!r} is not a time like '09:30'")
    return time(int(match[1]), int(match[2]))


def zone(tz: tzinfo | str) -> tzinfo:
    """A time zone from its name (or a tzinfo, unchanged)."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise BlockError(f"{tz!r} is not a time zone such as 'Europe/Amsterdam'") from None


def is_holiday(day: date, country: str | None) -> bool:
    """Whether `day` is a public holiday in `country` ('' or None: no holidays)."""
    return bool(country) and day in _holidays(country.upper(), day.year)  # type: ignore[union-attr]


def openings(blocks: Iterable[Block | BlockLike], *, since: datetime, tz: tzinfo | str,
             country: str | None, days: int = SEARCH_DAYS) -> Iterator[Opening]:
    """Every opening that has not closed by `since`, within `days` days, in order of opening."""
    zone_, since = zone(tz), _aware(since, "since")
    first = since.astimezone(zone_).date() - timedelta(days=1)  # an overnight block of yesterday may still be open
    found = [o for b in blocks for o in _openings_of(Block.of(b), first, days + 1, zone_, country)
             if o.closes > since]
    yield from sorted(found, key=lambda o: (o.opens, o.closes, o.id or 0))


def current_block(blocks: Sequence[Block | BlockLike], now: datetime, tz: tzinfo | str,
                  country: str | None) -> Opening | None:
    """The block open at `now` (the one that opened first, then the one that closes last), or None."""
    now = _aware(now, "now")
    current = [o for o in openings(blocks, since=now, tz=tz, country=country, days=2) if o.contains(now)]
    if not current:
        return None
    return min(current, key=lambda o: (o.opens, -o.closes.timestamp()))


def next_block(blocks: Sequence[Block | BlockLike], now: datetime, tz: tzinfo | str,
               country: str | None) -> Opening | None:
    """The next block to open after `now` (a block open at `now` is not next), or None if none ever does."""
    now = _aware(now, "now")
    return next((o for o in openings(blocks, since=now, tz=tz, country=country) if o.opens > now), None)


def next_open_and_close(block: Block | BlockLike, now: datetime, tz: tzinfo | str,
                        country: str | None) -> tuple[datetime | None, datetime | None]:
    """When `block` next opens (after `now`) and next closes (after `now`: today's close if it is open)."""
    now = _aware(now, "now")
    coming = list(_first_two(openings([block], since=now, tz=tz, country=country)))
    next_open = next((o.opens for o in coming if o.opens > now), None)
    next_close = coming[0].closes if coming else None
    return next_open, next_close


def next_transitions(blocks: Sequence[Block | BlockLike], after: datetime, tz: tzinfo | str,
                     country: str | None, event: str | None = None) -> list[Transition]:
    """The blocks opening or closing (`event`: only that) at the first such moment after `after`; [] if never."""
    after = _aware(after, "after")
    moments: list[Transition] = []
    for o in openings(blocks, since=after, tz=tz, country=country):
        if moments and o.opens > min(t.at for t in moments):
            break  # openings come in order: nothing later can open or close earlier
        if o.opens > after and event in (None, "open"):
            moments.append(Transition(o.opens, "open", o))
        if event in (None, "close"):
            moments.append(Transition(o.closes, "close", o))
    if not moments:
        return []
    first = min(t.at for t in moments)
    return sorted((t for t in moments if t.at == first), key=lambda t: (t.event != "close", t.opening.opens))


def _openings_of(block: Block, first: date, days: int, zone_: tzinfo, country: str | None) -> Iterator[Opening]:
    if block.kind == ONE_OFF:
        assert block.on is not None
        candidates: Iterable[date] = [block.on] if first <= block.on < first + timedelta(days=days) else []
    else:
        candidates = (first + timedelta(days=n) for n in range(days))
    for day in candidates:
        if DAYS[day.weekday()] not in block.days:
            continue
        if block.kind == WEEKLY and is_holiday(day, country):
            continue  # a one-off block was planned for that very day, so holidays do not cancel it
        opens = _instant(day, block.start, zone_)
        closes = _instant(day + timedelta(days=1) if block.overnight else day, block.end, zone_)
        if opens < closes:  # a block swallowed by a DST gap never opens
            yield Opening(days=block.days, start=block.start, end=block.end, kind=block.kind, on=block.on,
                          id=block.id, source=block.source, note=block.note, opens=opens, closes=closes)


def _first_two(items: Iterator[Opening]) -> Iterator[Opening]:
    for n, item in enumerate(items):
        if n == 2:
            return
        yield item


def _instant(day: date, at: time, zone_: tzinfo) -> datetime:
    # Per day, so each date gets its own offset (CET or CEST); a wall time in a DST gap reads as before the jump.
    return datetime.combine(day, at, tzinfo=zone_).astimezone(UTC)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise BlockError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holiday_calendars.country_holidays(country, years=year))
    except NotImplementedError:
        raise BlockError(f"[team] country {country!r}: the holidays package has no calendar for it") from None
