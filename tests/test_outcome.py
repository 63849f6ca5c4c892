"""The outcome vocabulary: every SIP ending mapped to one word."""

from __future__ import annotations

import pytest

from softphone.outcome import CallFacts, CodeSource, HangupCause, Outcome, classify

WIRE = CodeSource.WIRE
LOCAL = CodeSource.LOCAL


def facts(code: int | None, source: CodeSource = WIRE, **kw: object) -> CallFacts:
    kw.setdefault("got_response", True)
    return CallFacts(code, source, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "outcome"), [
    (486, Outcome.BUSY), (600, Outcome.BUSY), (603, Outcome.DECLINED),
    (404, Outcome.NOT_FOUND), (410, Outcome.NOT_FOUND), (484, Outcome.NOT_FOUND),
    (480, Outcome.UNAVAILABLE), (502, Outcome.UNAVAILABLE), (503, Outcome.UNAVAILABLE), (504, Outcome.UNAVAILABLE),
    (433, Outcome.ANONYMITY_REJECTED),
])
def test_wire_codes_map_to_the_vocabulary(code: int, outcome: Outcome) -> None:
    assert classify(facts(code)) is outcome


def test_answered_wins_over_any_code() -> None:
    assert classify(facts(200, answered=True)) is Outcome.ANSWERED


def test_ring_timeout_after_ringing_is_no_answer() -> None:
    assert classify(facts(487, rang=True, hangup_cause=HangupCause.RING_TIMEOUT)) is Outcome.NO_ANSWER


def test_ring_timeout_without_alerting_is_unavailable() -> None:
    assert classify(facts(487, rang=False, hangup_cause=HangupCause.RING_TIMEOUT)) is Outcome.UNAVAILABLE


def test_no_response_at_all_is_a_network_error_even_after_the_ring_timeout() -> None:
    silent = facts(487, LOCAL, got_response=False, hangup_cause=HangupCause.RING_TIMEOUT)
    assert classify(silent) is Outcome.NETWORK_ERROR


@pytest.mark.parametrize("code", [408, 503])
def test_locally_generated_codes_are_network_errors(code: int) -> None:
    assert classify(facts(code, LOCAL)) is Outcome.NETWORK_ERROR


def test_503_from_the_wire_is_unavailable_not_network() -> None:
    assert classify(facts(503, WIRE)) is Outcome.UNAVAILABLE


def test_agent_hangup_before_answer_is_cancelled() -> None:
    assert classify(facts(487, rang=True, hangup_cause=HangupCause.AGENT)) is Outcome.CANCELLED
    assert classify(facts(487, LOCAL, got_response=False, hangup_cause=HangupCause.AGENT)) is Outcome.CANCELLED


def test_unknown_failures_are_failed() -> None:
    assert classify(facts(403)) is Outcome.FAILED
    assert classify(facts(488)) is Outcome.FAILED


def test_other_server_errors_are_unavailable() -> None:
    assert classify(facts(500)) is Outcome.UNAVAILABLE
