"""Tests of dialer.calllog.journal on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from dialer.calllog.journal import CallLog
from dialer.storage.database import make_engine

T0 = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """Return T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def open_one(log: CallLog, **overrides: Any) -> int:
    """Open an attempt with plausible defaults."""
    values: dict[str, Any] = {
        "number": "+31201234567",
        "caller_id": "+31207654321",
        "caller_id_withheld": False,
        "at": T0,
    }
    values.update(overrides)
    return log.open_attempt(**values)


def end(log: CallLog, attempt_id: int, seconds: float = 60, **overrides: Any) -> bool:
    """End an attempt as a normal hang-up after an answer."""
    values: dict[str, Any] = {
        "at": at(seconds),
        "outcome": "answered",
        "sip_code": 200,
        "sip_reason": "OK",
        "sip_code_source": "wire",
    }
    values.update(overrides)
    return log.mark_ended(attempt_id, **values)


def test_open_attempt_stores_everything(calllog: CallLog) -> None:
    attempt_id = calllog.open_attempt(
        number="+31201234567", caller_id="+31207654321", caller_id_withheld=True, at=T0,
        agent="anna", debtor_ref="D-17", contact_ref="C-3", worker="worker-1",
        coordinator="host-a:4242",
    )  # fmt: skip
    attempt = calllog.get(attempt_id)
    assert (attempt.number, attempt.caller_id, attempt.caller_id_withheld) == (
        "+31201234567", "+31207654321", True,
    )  # fmt: skip
    assert (attempt.agent, attempt.debtor_ref, attempt.contact_ref) == ("anna", "D-17", "C-3")
    assert (attempt.worker, attempt.coordinator) == ("worker-1", "host-a:4242")
    assert attempt.state == "dialing"
    assert attempt.created_at == T0
    assert attempt.ringing_at is attempt.answered_at is attempt.ended_at is None
    assert attempt.outcome is None


def test_open_attempt_is_committed_before_it_returns(db_url: str, calllog: CallLog) -> None:
    attempt_id = open_one(calllog, debtor_ref="D-1")
    # A second, independent engine (another process, as after a crash) sees it.
    other = make_engine(db_url)
    try:
        with other.connect() as connection:
            row = connection.execute(
                text("SELECT state, number, debtor_ref FROM attempts WHERE id = :id"),
                {"id": attempt_id},
            ).one()
    finally:
        other.dispose()
    assert tuple(row) == ("dialing", "+31201234567", "D-1")


def test_open_attempt_refuses_naive_time_and_bad_numbers(calllog: CallLog) -> None:
    with pytest.raises(ValueError, match="naive"):
        open_one(calllog, at=datetime(2025, 3, 3, 9, 30))
    with pytest.raises(ValueError, match="number"):
        open_one(calllog, number="+" + "1" * 40)
    with pytest.raises(ValueError, match="caller_id"):
        open_one(calllog, caller_id="")
    assert calllog.recent() == []


def test_a_normal_call_goes_through_every_state(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    assert calllog.mark_ringing(attempt_id, at(2)) is True
    assert calllog.get(attempt_id).state == "ringing"
    assert calllog.mark_answered(attempt_id, at(7)) is True
    assert calllog.get(attempt_id).state == "answered"
    assert end(calllog, attempt_id, 67.04, sip_call_id="abc@host") is True
    attempt = calllog.get(attempt_id)
    assert attempt.state == "ended"
    assert (attempt.ringing_at, attempt.answered_at, attempt.ended_at) == (at(2), at(7), at(67.04))
    assert (attempt.outcome, attempt.sip_code, attempt.sip_reason) == ("answered", 200, "OK")
    assert (attempt.sip_code_source, attempt.sip_call_id) == ("wire", "abc@host")
    assert attempt.duration_s == 60.0


def test_ringing_is_recorded_once(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    assert calllog.mark_ringing(attempt_id, at(1)) is True
    assert calllog.mark_ringing(attempt_id, at(3)) is False
    assert calllog.get(attempt_id).ringing_at == at(1)


def test_answer_without_ringing(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    assert calllog.mark_answered(attempt_id, at(4)) is True
    attempt = calllog.get(attempt_id)
    assert (attempt.state, attempt.ringing_at, attempt.answered_at) == ("answered", None, at(4))


def test_answered_never_goes_back_to_ringing(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    calllog.mark_answered(attempt_id, at(4))
    assert calllog.mark_ringing(attempt_id, at(5)) is False
    assert calllog.mark_answered(attempt_id, at(6)) is False
    attempt = calllog.get(attempt_id)
    assert (attempt.state, attempt.ringing_at, attempt.answered_at) == ("answered", None, at(4))


def test_ended_is_never_reopened(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    end(calllog, attempt_id, 20, outcome="busy", sip_code=486, sip_reason="Busy Here")
    assert calllog.mark_ringing(attempt_id, at(21)) is False
    assert calllog.mark_answered(attempt_id, at(22)) is False
    attempt = calllog.get(attempt_id)
    assert (attempt.state, attempt.ringing_at, attempt.answered_at) == ("ended", None, None)
    assert attempt.outcome == "busy"


def test_mark_ended_is_idempotent(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    assert end(calllog, attempt_id, 30, outcome="no_answer", sip_code=408,
               sip_reason="Request Timeout", sip_call_id="first@host") is True  # fmt: skip
    assert end(calllog, attempt_id, 40, outcome="failed", sip_code=500,
               sip_reason="Server Error", sip_code_source="local", sip_call_id="x") is False  # fmt: skip
    attempt = calllog.get(attempt_id)
    assert (attempt.ended_at, attempt.outcome, attempt.sip_code) == (at(30), "no_answer", 408)
    assert (attempt.sip_reason, attempt.sip_code_source) == ("Request Timeout", "wire")
    assert attempt.sip_call_id == "first@host"


def test_mark_ended_validates_its_vocabulary(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    with pytest.raises(ValueError, match="outcome"):
        end(calllog, attempt_id, outcome="hung_up")
    with pytest.raises(ValueError, match="sip_code_source"):
        end(calllog, attempt_id, sip_code_source="remote")
    with pytest.raises(ValueError, match="naive"):
        end(calllog, attempt_id, at=datetime(2025, 3, 3, 9, 31))
    assert calllog.get(attempt_id).state == "dialing"


def test_mark_ended_without_sip_facts(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    assert end(calllog, attempt_id, 3, outcome="network_error", sip_code=None,
               sip_reason=None, sip_code_source=None) is True  # fmt: skip
    attempt = calllog.get(attempt_id)
    assert (attempt.outcome, attempt.sip_code, attempt.sip_reason) == ("network_error", None, None)
    assert attempt.sip_code_source is None


def test_wire_strings_are_clipped_to_their_columns(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    end(calllog, attempt_id, outcome="declined", sip_code=603,
        sip_reason="Decline " + "x" * 300, sip_call_id="c" * 300)  # fmt: skip
    attempt = calllog.get(attempt_id)
    assert attempt.sip_reason == ("Decline " + "x" * 300)[:128]
    assert attempt.sip_call_id == "c" * 128


def test_worker_and_recording_can_be_set_after_the_end(calllog: CallLog) -> None:
    attempt_id = open_one(calllog)
    calllog.set_worker(attempt_id, "worker-2")
    end(calllog, attempt_id)
    calllog.set_recording(attempt_id, "var/recordings/2025/03/1.ogg")
    attempt = calllog.get(attempt_id)
    assert attempt.worker == "worker-2"
    assert attempt.recording_path == "var/recordings/2025/03/1.ogg"
    assert attempt.to_json()["recording"] == "var/recordings/2025/03/1.ogg"
    assert attempt.state == "ended"


def test_unknown_attempt_is_a_key_error(calllog: CallLog) -> None:
    with pytest.raises(KeyError):
        calllog.get(999)
    with pytest.raises(KeyError):
        calllog.mark_ringing(999, at(1))
    with pytest.raises(KeyError):
        calllog.mark_answered(999, at(1))
    with pytest.raises(KeyError):
        end(calllog, 999)
    with pytest.raises(KeyError):
        calllog.set_worker(999, "worker-1")
    with pytest.raises(KeyError):
        calllog.set_recording(999, "x.ogg")


def test_recent_is_newest_first_and_limited(calllog: CallLog) -> None:
    middle = open_one(calllog, at=at(10))
    oldest = open_one(calllog, at=at(0))
    newest = open_one(calllog, at=at(20))
    tie = open_one(calllog, at=at(20))
    assert [a.id for a in calllog.recent()] == [tie, newest, middle, oldest]
    assert [a.id for a in calllog.recent(limit=2)] == [tie, newest]
    # Detached but loaded: readable after the session closed.
    assert calllog.recent(limit=1)[0].to_json()["attempt_id"] == tie


def test_interrupt_orphans_ends_only_dead_coordinators_calls(calllog: CallLog) -> None:
    dialing = open_one(calllog, coordinator="host-a:1")
    answered = open_one(calllog, coordinator="host-a:1")
    calllog.mark_answered(answered, at(5))
    finished = open_one(calllog, coordinator="host-a:1")
    end(calllog, finished, 9, outcome="busy", sip_code=486, sip_reason="Busy Here")
    alive = open_one(calllog, coordinator="host-b:2")
    ownerless = open_one(calllog)
    asked: list[str] = []

    def coordinator_alive(owner: str) -> bool:
        asked.append(owner)
        return owner == "host-b:2"

    interrupted = calllog.interrupt_orphans(at=at(100), coordinator_alive=coordinator_alive)
    assert interrupted == sorted([dialing, answered])
    assert sorted(asked) == ["host-a:1", "host-b:2"]
    for attempt_id in interrupted:
        attempt = calllog.get(attempt_id)
        assert (attempt.state, attempt.outcome, attempt.ended_at) == ("ended", "interrupted", at(100))
        assert (attempt.sip_code, attempt.sip_reason) == (None, "coordinator stopped")
        assert attempt.sip_code_source == "local"
    assert calllog.get(answered).duration_s == 95.0
    assert calllog.get(finished).outcome == "busy"
    assert calllog.get(alive).state == "dialing"
    assert calllog.get(ownerless).state == "dialing"
    # Already interrupted: nothing left to do.
    assert calllog.interrupt_orphans(at=at(200), coordinator_alive=coordinator_alive) == []


def test_interrupt_orphans_with_everyone_alive(calllog: CallLog) -> None:
    attempt_id = open_one(calllog, coordinator="host-a:1")
    assert calllog.interrupt_orphans(at=at(1), coordinator_alive=lambda owner: True) == []
    assert calllog.get(attempt_id).state == "dialing"
    with pytest.raises(ValueError, match="naive"):
        calllog.interrupt_orphans(at=datetime(2025, 1, 1), coordinator_alive=lambda owner: False)
