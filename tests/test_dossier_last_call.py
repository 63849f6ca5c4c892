"""Every finished call with a dossier is noted on it for the queue's retry tier, whichever path placed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from dialer.calllog.journal import CallLog
from dialer.calls.telephony import Telephony
from dialer.queue.claimmodel import DossierClaim
from dialer.queue.claims import note_attempt
from dialer.storage.database import session_factory
from softphone.protocol import CallEvent
from tests.test_scheduler import add_debtor
from tests.test_teamline import config

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def last_call(engine: Engine, debtor_id: int) -> tuple:
    with engine.connect() as connection:
        row = connection.execute(select(DossierClaim.last_called_at, DossierClaim.last_outcome)
                                 .where(DossierClaim.debtor_id == debtor_id)).first()
    return tuple(row) if row else (None, None)


def test_the_journalled_end_of_a_panel_call_is_noted_on_its_dossier(engine: Engine, tmp_path) -> None:
    sessions = session_factory(engine)
    debtor_id = add_debtor(sessions)
    calllog = CallLog(sessions)
    phone = Telephony(config(tmp_path), calllog)  # the worker is never started: journal() is plain bookkeeping
    attempt = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False, at=T,
                                   debtor_ref="D-1", agent="anna")
    phone.journal(attempt, CallEvent(call="a", kind="ended", at=(T + timedelta(seconds=30)).timestamp(),
                                     outcome="no_answer", sip_code=480, code_source="wire"))
    assert last_call(engine, debtor_id) == (T, "no_answer")


def test_an_older_calls_late_end_does_not_replace_the_newer_call(engine: Engine) -> None:
    sessions = session_factory(engine)
    debtor_id = add_debtor(sessions)
    calllog = CallLog(sessions)
    older = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False, at=T,
                                 debtor_ref="D-1")
    newer = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False,
                                 at=T + timedelta(minutes=5), debtor_ref="D-1")
    calllog.mark_ended(newer, at=T + timedelta(minutes=6), outcome="busy", sip_code=486, sip_reason="Busy",
                       sip_code_source="wire")
    assert note_attempt(engine, newer)
    calllog.mark_ended(older, at=T + timedelta(minutes=7), outcome="no_answer", sip_code=480, sip_reason="x",
                       sip_code_source="wire")
    assert note_attempt(engine, older)
    assert last_call(engine, debtor_id) == (T + timedelta(minutes=5), "busy")


def test_a_call_without_a_dossier_notes_nothing(engine: Engine) -> None:
    calllog = CallLog(session_factory(engine))
    attempt = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False, at=T)
    assert not note_attempt(engine, attempt)
