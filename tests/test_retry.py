"""Retry rules per outcome and the caller-ID withholding rule, on a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.queue.retry import (
    CONTACTED_TODAY,
    IN_CALL,
    RETRY_DELAY,
    RETRY_MAX_PER_DAY,
    RETRY_MAX_TOTAL,
    Dialled,
    canonical,
    dead_numbers,
    retry_state,
    withhold_caller_id,
)
from dialer.settings.config import parse

AMS = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Amsterdam
NUMBER = "+31612345678"
CFG = parse("""
[sip]
trunk = "127.0.0.1:5060"
caller_id = "+31201234567"
[retry.busy]
delay_minutes = 30
""")


def call(minutes: float, outcome: str | None, number: str = NUMBER, *, answered: bool = False,
         withheld: bool = False) -> Dialled:
    at = T0 + timedelta(minutes=minutes)
    return Dialled(at=at, number=number, outcome=outcome, ended_at=at + timedelta(seconds=30) if outcome else None,
                   answered=answered or outcome == "answered", withheld=withheld)


def state(attempts: list[Dialled], minutes: float):
    return retry_state(attempts, CFG.retry_rule, now=T0 + timedelta(minutes=minutes), tz=AMS)


def test_never_called_is_not_a_retry() -> None:
    assert state([], 0).due is None and not state([], 0).blocked


def test_no_answer_waits_its_delay_then_is_due() -> None:
    history = [call(0, "no_answer")]
    waiting = state(history, 60)
    assert waiting.rules == (RETRY_DELAY,)
    assert waiting.next_allowed == T0 + timedelta(minutes=120, seconds=30)  # from the end of the call
    due = state(history, 121)
    assert not due.blocked and due.due == T0 + timedelta(minutes=120, seconds=30)
    assert due.outcome == "no_answer"


def test_configured_rule_overrides_the_default_delay() -> None:
    assert state([call(0, "busy")], 31).due is not None
    assert state([call(0, "busy")], 29).rules == (RETRY_DELAY,)


def test_max_per_day_counts_retries_not_the_first_call() -> None:
    # no_answer: 2 retries a day; the first call is no retry, so three calls fit in one day
    history = [call(0, "no_answer"), call(130, "no_answer")]
    assert state(history, 260).due is not None
    history.append(call(260, "no_answer"))
    capped = state(history, 400)
    assert capped.rules == (RETRY_MAX_PER_DAY,)
    assert capped.next_allowed == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # midnight in Amsterdam
    assert state(history, 24 * 60).due is not None  # the next day


def test_max_total_ends_the_retries() -> None:
    history = [call(day * 24 * 60 + n * 130, "no_answer") for day in range(3) for n in range(3)]
    assert len(history) == 9  # 8 retries after the first call
    assert state(history, 5 * 24 * 60).rules == (RETRY_MAX_TOTAL,)
    assert state(history, 5 * 24 * 60).next_allowed is None


def test_an_answered_call_starts_a_new_run() -> None:
    history = [call(day * 24 * 60 + n * 130, "no_answer") for day in range(3) for n in range(3)]
    history.append(call(4 * 24 * 60, "answered"))
    history.append(call(5 * 24 * 60, "no_answer"))
    assert state(history, 5 * 24 * 60 + 121).due is not None


def test_answered_or_declined_today_is_not_called_again_today() -> None:
    for outcome in ("answered", "declined"):
        blocked = state([call(0, outcome)], 30)
        assert blocked.rules == (CONTACTED_TODAY,)
        assert blocked.next_allowed == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
        assert not state([call(0, outcome)], 24 * 60).blocked


def test_a_call_under_way_blocks() -> None:
    assert state([call(0, None)], 1).rules == (IN_CALL,)
    assert not state([call(0, None)], 90).blocked  # lost long ago: not a call in progress


@pytest.mark.parametrize(("outcome", "rule"), [("cancelled", "no_answer"), ("interrupted", "network_error"),
                                               ("failed", "network_error")])
def test_unnamed_outcomes_follow_the_rule_they_resemble(outcome: str, rule: str) -> None:
    assert canonical(outcome) == rule
    delay = CFG.retry_rule(rule).delay_minutes
    assert state([call(0, outcome)], delay - 1).rules == (RETRY_DELAY,)
    assert state([call(0, outcome)], delay + 1).due is not None


def test_anonymity_rejected_is_retried_at_once() -> None:
    assert state([call(0, "anonymity_rejected")], 1).due is not None


def test_not_found_is_not_retried_and_the_number_is_dead() -> None:
    history = [call(0, "not_found"), call(1, "no_answer", "+31201112222")]
    assert dead_numbers(history) == {NUMBER}
    assert dead_numbers([call(0, "not_found"), call(5, "answered")]) == set()


def test_withhold_after_n_no_answers_on_that_number() -> None:
    one = [call(0, "no_answer")]
    two = one + [call(130, "no_answer")]
    assert not withhold_caller_id(one, NUMBER, after=2, allowed=True)
    assert withhold_caller_id(two, NUMBER, after=2, allowed=True)
    assert not withhold_caller_id(two, "+31201112222", after=2, allowed=True)  # another number
    assert not withhold_caller_id(two, NUMBER, after=0, allowed=True)  # 0 = never
    assert not withhold_caller_id(two, NUMBER, after=2, allowed=False)  # the policy pack forbids it
    assert not withhold_caller_id(two, NUMBER, after=2, allowed=True, refuses_anonymous=True)
    assert not withhold_caller_id(two + [call(200, "busy")], NUMBER, after=2, allowed=True)  # the run is broken
    assert withhold_caller_id(two + [call(260, "no_answer", withheld=True)], NUMBER, after=2, allowed=True)
    after_433 = two + [call(260, "anonymity_rejected", withheld=True)]
    assert not withhold_caller_id(after_433, NUMBER, after=2, allowed=True)
