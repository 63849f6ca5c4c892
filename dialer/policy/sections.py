"""The sections of a policy pack: the calling window, the frequency rules, caller ID and recording, validated."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from functools import lru_cache
from typing import Any, Literal

import holidays as holiday_calendars
from pydantic import BaseModel, ConfigDict, Field, field_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COUNTS = ("placed", "connected", "conversations")  # broadest first: each counts a subset of the one before

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CLOSED = re.compile(r"^(\d{4}-)?(\d{2})-(\d{2})$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Section):
    """[window]: the days and hours calls may start, in the debtor's local time."""

    days: tuple[str, ...] = DAYS[:5]
    start: time = time(8)
    end: time = time(18)  # exclusive
    holidays: tuple[str, ...] = ()  # countries whose public holidays are closed
    closed: tuple[str, ...] = ()  # extra closed days: "MM-DD" every year, "YYYY-MM-DD" once

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> tuple[str, ...]:
        wanted = [_item(day, lambda d: d.lower() in DAYS, f"a day ({', '.join(DAYS)})").lower()
                  for day in _listed(value, "a day")]
        return tuple(day for day in DAYS if day in wanted)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> time:
        if isinstance(value, time) and value.tzinfo is None:
            return value
        text = _item(value, _CLOCK.match, "a time of day HH:MM (00:00 to 23:59)")
        return time(int(text[:2]), int(text[3:]))

    @field_validator("holidays", mode="before")
    @classmethod
    def _countries(cls, value: Any) -> tuple[str, ...]:
        codes = [_item(code, lambda c: c.upper() in _known_countries(),
                       "a country the holidays package knows (e.g. 'NL', 'BE', 'US')").upper()
                 for code in _listed(value, "a country code") if code != ""]
        return tuple(dict.fromkeys(codes))

    @field_validator("closed", mode="before")
    @classmethod
    def _closed(cls, value: Any) -> tuple[str, ...]:
        days = [_item(day.isoformat() if type(day) is date else day, _is_closed_day,
                      "a day 'MM-DD' (every year) or 'YYYY-MM-DD' (once)") for day in _listed(value, "a day")]
        return tuple(dict.fromkeys(days))

    @property
    def opens(self) -> bool:
        """Whether the window can ever open (combined packs may leave no hours or days)."""
        return bool(self.days) and self.start < self.end

    def open_on(self, day: date) -> bool:
        """Whether calls may be placed on this local date at all."""
        if DAYS[day.weekday()] not in self.days:
            return False
        if day.isoformat() in self.closed or day.isoformat()[5:] in self.closed:
            return False
        return not any(day in _holiday_dates(country, day.year) for country in self.holidays)


class Frequency(_Section):
    """[frequency]: how often, and how soon after a conversation, the debtor may be phoned."""

    max_calls: int = Field(default=0, ge=0, strict=True)  # 0 = no cap
    per_days: int = Field(default=7, ge=1, strict=True)
    cooldown_after_conversation_days: int = Field(default=0, ge=0, strict=True)
    counts: Literal["placed", "connected", "conversations"] = "placed"


class CallerId(_Section):
    """[caller_id]: whether our number may be withheld."""

    withhold: Literal["allowed", "forbidden"] = "forbidden"


class Recording(_Section):
    """[recording]: what the recorder must do; the engine itself does not use it."""

    announce: bool = Field(default=True, strict=True)
    retention_days: int = Field(default=0, ge=0, strict=True)  # 0 = the team's setting


class PolicyPack(_Section):
    """One jurisdiction's (or team's) contact rules, as read from a TOML pack."""

    name: str = Field(min_length=1)
    description: str = ""
    effective: date | None = None
    sources: tuple[str, ...] = ()
    window: Window = Window()
    frequency: Frequency = Frequency()
    caller_id: CallerId = CallerId()
    recording: Recording = Recording()

    @property
    def withhold_allowed(self) -> bool:
        """Whether the pack lets us withhold our number at all."""
        return self.caller_id.withhold == "allowed"


def _listed(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError(f"{value!r} is not {what} or a list of them")


def _item(value: Any, valid: Callable[[str], object], what: str) -> str:
    if not isinstance(value, str) or not valid(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


def _is_closed_day(text: str) -> bool:
    match = _CLOSED.match(text)
    if match is None:
        return False
    try:
        # 2000 is a leap year, so "02-29" is accepted as a yearly day
        date(int(match[1][:4]) if match[1] else 2000, int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _known_countries() -> frozenset[str]:
    return frozenset(code for code in holiday_calendars.list_supported_countries() if len(code) == 2)


@lru_cache(maxsize=512)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    return frozenset(holiday_calendars.country_holidays(country, years=year))
