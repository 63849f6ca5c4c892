"""Retry rules per outcome and the caller-ID withholding rule, worked out from the attempts already made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Protocol

RETRIED = ("no_answer", "busy", "unavailable", "network_error")  # configured with [retry.OUTCOME]
# Outcomes the configuration does not name, retried as the one they resemble.
ALIASES = {"cancelled": "no_answer", "interrupted": "network_error", "failed": "network_error"}
ANONYMITY_REJECTED = "anonymity_rejected"  # 433: retried at once with the caller ID presented
FINAL_FOR_TODAY = ("answered", "declined")  # somebody saw the call: not again the same (debtor's) day
DEAD = "not_found"  # 404/410/484: that number is not dialled again
STALE_CALL = timedelta(hours=1)  # an attempt unfinished for this long is a lost one, not a call in progress

RETRY_DELAY = "retry_delay"
RETRY_MAX_PER_DAY = "retry_max_per_day"
RETRY_MAX_TOTAL = "retry_max_total"
CONTACTED_TODAY = "contacted_today"
IN_CALL = "in_call"


class RuleLike(Protocol):
    """A retry rule: `[retry.OUTCOME]` of the configuration."""

    delay_minutes: int
    max_per_day: int
    max_total: int


@dataclass(frozen=True)
class Rule:
    """A retry rule as plain data."""

    delay_minutes: int
    max_per_day: int
    max_total: int


ANONYMITY_RULE = Rule(delay_minutes=0, max_per_day=2, max_total=4)


@dataclass(frozen=True)
class Dialled:
    """One past attempt, as far as retries and caller ID care."""

    at: datetime
    number: str
    outcome: str | None  # None while the call is under way
    ended_at: datetime | None = None
    answered: bool = False
    withheld: bool = False
    sip_code: int | None = None

    @property
    def finished_at(self) -> datetime:
        """When the attempt ended (or began, if it never ended)."""
        return self.ended_at or self.at


@dataclass(frozen=True)
class RetryState:
    """Where a dossier stands after its last attempt: retry due (when), blocked (by which rule), or neither."""

    outcome: str | None = None  # the last attempt's outcome, None if it was never called
    due: datetime | None = None  # a retry is due from then; None: nothing to retry
    rules: tuple[str, ...] = ()  # why it may not be called now
    next_allowed: datetime | None = None  # when those rules let go (None: not by itself)
    retries: int = 0  # retries already made after this outcome in the current run of failures

    @property
    def blocked(self) -> bool:
        """Whether a rule forbids calling now."""
        return bool(self.rules)


def canonical(outcome: str | None) -> str | None:
    """The outcome whose retry rule applies (aliases folded in)."""
    return ALIASES.get(outcome or "", outcome)


def retry_state(attempts: Sequence[Dialled], rule_for: Callable[[str], RuleLike | None], *, now: datetime,
                tz: tzinfo) -> RetryState:
    """The retry state after `attempts` (any order) at `now`; days are the debtor's (`tz`) days."""
    ordered = sorted(attempts, key=lambda a: a.at)
    if not ordered:
        return RetryState()
    last = ordered[-1]
    if last.outcome is None:
        if now - last.at < STALE_CALL:
            return RetryState(rules=(IN_CALL,))
        ordered = [a for a in ordered if a.outcome is not None]
        if not ordered:
            return RetryState()
        last = ordered[-1]
    today = now.astimezone(tz).date()
    if last.outcome in FINAL_FOR_TODAY or last.answered:
        if last.at.astimezone(tz).date() == today:
            return RetryState(outcome=last.outcome, rules=(CONTACTED_TODAY,), next_allowed=_midnight_after(now, tz))
        return RetryState(outcome=last.outcome)
    outcome = canonical(last.outcome)
    rule = ANONYMITY_RULE if outcome == ANONYMITY_REJECTED else rule_for(outcome) if outcome else None
    if rule is None:
        return RetryState(outcome=last.outcome)  # not a retried outcome (e.g. not_found): the number choice deals
    # The current run of failures: attempts since the last one somebody answered.
    run = ordered[max((n for n, a in enumerate(ordered) if a.answered), default=-1) + 1:]
    # A retry "after X" is an attempt whose predecessor ended with X; the first call of a run is no retry.
    retries = [after for before, after in zip(run, run[1:]) if canonical(before.outcome) == outcome]
    today_count = sum(1 for a in retries if a.at.astimezone(tz).date() == today)
    if len(retries) >= rule.max_total:
        return RetryState(outcome=last.outcome, rules=(RETRY_MAX_TOTAL,), retries=len(retries))
    if today_count >= rule.max_per_day:
        return RetryState(outcome=last.outcome, rules=(RETRY_MAX_PER_DAY,), next_allowed=_midnight_after(now, tz),
                          retries=len(retries))
    due = last.finished_at + timedelta(minutes=rule.delay_minutes)
    if due > now:
        return RetryState(outcome=last.outcome, due=due, rules=(RETRY_DELAY,), next_allowed=due, retries=len(retries))
    return RetryState(outcome=last.outcome, due=due, retries=len(retries))


def withhold_caller_id(attempts: Sequence[Dialled], number: str, *, after: int, allowed: bool,
                       refuses_anonymous: bool = False) -> bool:
    """Withhold the caller ID on the next call to `number`: after `after` no-answers in a row there, if allowed."""
    if after <= 0 or not allowed or refuses_anonymous:
        return False
    streak = 0
    for attempt in sorted((a for a in attempts if a.number == number and a.outcome is not None),
                          key=lambda a: a.at, reverse=True):
        if attempt.outcome != "no_answer":
            break
        streak += 1
    return streak >= after


def dead_numbers(attempts: Sequence[Dialled]) -> set[str]:
    """Numbers whose latest attempt found no such number."""
    latest: dict[str, Dialled] = {}
    for attempt in sorted(attempts, key=lambda a: a.at):
        if attempt.outcome is not None:
            latest[attempt.number] = attempt
    return {number for number, attempt in latest.items() if attempt.outcome == DEAD}


def _midnight_after(now: datetime, tz: tzinfo) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
