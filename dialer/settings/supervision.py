"""The supervisor's sections of the configuration: pause codes, the wallboard's limits, the daily report."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from .sections import Section

CODE = re.compile(r"^[a-z0-9_]{1,32}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class PauseCode(Section):
    """`[[pause_codes]]`: why an agent is paused, in both languages, with an optional time limit."""

    code: str
    label_nl: str = Field(min_length=1, max_length=60)
    label_en: str = Field(min_length=1, max_length=60)
    max_minutes: int | None = Field(None, gt=0, le=24 * 60)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError(f"{value!r}: a pause code is 1-32 of a-z, 0-9 and _")
        return value

    def label(self, language: str) -> str:
        """The label in `language` (Dutch for nl, else English)."""
        return self.label_nl if language == "nl" else self.label_en


DEFAULT_PAUSE_CODES = (
    PauseCode(code="break", label_nl="Pauze", label_en="Break", max_minutes=15),
    PauseCode(code="lunch", label_nl="Lunch", label_en="Lunch", max_minutes=45),
    PauseCode(code="meeting", label_nl="Overleg", label_en="Meeting"),
    PauseCode(code="admin", label_nl="Administratie", label_en="Paperwork", max_minutes=30),
    PauseCode(code="coaching", label_nl="Coaching", label_en="Coaching"),
)


class WallboardConfig(Section):
    """`[wallboard]`: when time in a state turns red."""

    wrap_up_limit_minutes: float = Field(3.0, gt=0, le=120)
    show_monitoring: bool = True  # the agent sees that a supervisor listens in (off only where silent monitoring is allowed)


class ReportsConfig(Section):
    """`[reports]`: the promise-kept rule's grace days and the daily summary e-mail."""

    grace_days: int = Field(0, ge=0, le=60)  # 0: as the promise rule (a payment after the due date is late)
    daily_at: str = ""  # HH:MM in the team's zone; "" = no daily e-mail
    recipients: list[str] = []  # "" = every supervisor with an e-mail address

    @field_validator("daily_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if value and not CLOCK.match(value):
            raise ValueError(f"{value!r}: daily_at is a time HH:MM, e.g. \"07:30\"")
        return value
