"""Tests of dialer.calllog.attempt: UTC times, derived values and the JSON shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import StatementError

from dialer.calllog.attempt import Attempt
from dialer.calllog.journal import CallLog
from dialer.core.clock import utcnow
from dialer.storage.base import Base
from dialer.storage.columns import UTCDateTime

CEST = timezone(timedelta(hours=2))
JSON_KEYS = {
    "attempt_id", "number", "debtor_ref", "contact_ref", "agent", "caller_id",
    "caller_id_withheld", "state", "outcome", "sip_code", "sip_reason", "sip_code_source",
    "created_at", "ringing_at", "answered_at", "ended_at", "duration_s", "recording",
    "worker", "sip_call_id",
}  # fmt: skip


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.utcoffset() == timedelta(0)
    assert now.tzinfo is UTC


DIALECTS = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "pg"])
def test_utcdatetime_binds_naive_utc_and_reads_aware_utc(dialect: Dialect) -> None:
    column = UTCDateTime()
    stored = column.process_bind_param(datetime(2025, 3, 1, 12, 0, tzinfo=CEST), dialect)
    assert stored == datetime(2025, 3, 1, 10, 0)
    assert stored is not None and stored.tzinfo is None
    read = column.process_result_value(stored, dialect)
    assert read == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert read is not None and read.tzinfo is UTC
    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value(None, dialect) is None


def test_utcdatetime_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2025, 3, 1, 12, 0), sqlite.dialect())


def test_model_refuses_naive_time_at_assignment() -> None:
    with pytest.raises(ValueError, match="naive"):
        Attempt(number="+31201234567", caller_id="+31207654321", state="dialing",
                created_at=datetime(2025, 3, 1, 12, 0))  # fmt: skip
    attempt = Attempt(created_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        attempt.ended_at = datetime(2025, 3, 1, 12, 5)


def test_core_insert_of_naive_time_is_refused(engine: Engine) -> None:
    row = {"number": "+31201234567", "caller_id": "+31207654321", "state": "dialing",
           "created_at": datetime(2025, 3, 1, 12, 0)}  # fmt: skip
    with pytest.raises(StatementError) as caught, engine.begin() as connection:
        connection.execute(insert(Attempt), row)
    assert isinstance(caught.value.orig, ValueError)


def test_time_round_trip_is_aware_utc(engine: Engine, calllog: CallLog) -> None:
    attempt_id = calllog.open_attempt(
        number="+31201234567", caller_id="+31207654321", caller_id_withheld=False,
        at=datetime(2025, 3, 1, 12, 0, tzinfo=CEST),
    )  # fmt: skip
    attempt = calllog.get(attempt_id)
    assert attempt.created_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert attempt.created_at.tzinfo is UTC
    assert attempt.to_json()["created_at"] == "2025-03-01T10:00:00+00:00"
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT created_at FROM attempts")).scalar_one()
    # Stored as naive UTC: a datetime on PostgreSQL, a string on SQLite.
    assert str(raw).startswith("2025-03-01 10:00:00")


def test_defaults_after_flush(calllog: CallLog) -> None:
    attempt_id = calllog.open_attempt(
        number="+31201234567", caller_id="+31207654321", caller_id_withheld=False, at=utcnow()
    )
    attempt = calllog.get(attempt_id)
    assert attempt.caller_id_withheld is False
    assert attempt.state == "dialing"
    assert attempt.duration_s is None


def _attempt(**times: datetime | None) -> Attempt:
    return Attempt(id=7, number="+31201234567", caller_id="+31207654321",
                   caller_id_withheld=True, state="ended", **times)  # fmt: skip


def test_duration_rounds_to_a_tenth() -> None:
    answered = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    attempt = _attempt(answered_at=answered, ended_at=answered + timedelta(seconds=12.345))
    assert attempt.duration_s == 12.3


def test_duration_needs_answer_and_end() -> None:
    at = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert _attempt(ended_at=at).duration_s is None
    assert _attempt(answered_at=at).duration_s is None


def test_to_json_shape() -> None:
    created = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    attempt = _attempt(created_at=created, answered_at=created + timedelta(seconds=5),
                       ended_at=created + timedelta(seconds=65))  # fmt: skip
    attempt.recording_path = "var/recordings/7.ogg"
    attempt.outcome = "answered"
    data = attempt.to_json()
    assert set(data) == JSON_KEYS
    assert data["attempt_id"] == 7
    assert data["recording"] == "var/recordings/7.ogg"
    assert data["duration_s"] == 60.0
    assert data["created_at"] == "2025-03-01T10:00:00+00:00"
    assert data["ringing_at"] is None
    assert data["ended_at"] == "2025-03-01T10:01:05+00:00"
    assert data["caller_id_withheld"] is True
    json.dumps(data)


def test_indexes_and_names_follow_the_convention() -> None:
    table = Base.metadata.tables["attempts"]
    assert {index.name: [c.name for c in index.columns] for index in table.indexes} == {
        "ix_attempts_state": ["state"],
        "ix_attempts_number_created_at": ["number", "created_at"],
        "ix_attempts_debtor_ref_id": ["debtor_ref", "id"],
        "ix_attempts_created_at": ["created_at"],  # a day's calls, for the reports' day book
    }
    assert table.primary_key.name == "pk_attempts"
