"""Incoming calls: the caller matched to a dossier; a busy owner means the recorded message and a return call."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.calllog.attempt import Attempt
from dialer.calllog.journal import CallLog
from dialer.calls.desk import CallTarget, Switchboard
from dialer.calls.incoming import IncomingCalls, caller_number, desk_busy, greeting_for
from dialer.dossiers.callbacks import Callback
from dialer.scheduling.scheduler import CallbackScheduler
from dialer.settings.config import Config, parse
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, MakeWorker
from tests.test_scheduler import RecordingHub, add_debtor

ROOT = Path(__file__).resolve().parent.parent


def config(tmp_path: Path, trunk: str = "127.0.0.1:9") -> Config:
    return parse(f"""
[sip]
trunk = "{trunk}"
caller_id = "+31201234567"
response_timeout_s = 2
[recording]
dir = "{tmp_path / 'rec'}"
[team]
timezone = "Europe/Amsterdam"
[[blocks]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:30"
end = "11:00"
""")


def called_by(sessions: sessionmaker[Session], agent: str, ref: str = "D-1", number: str = DEBTOR) -> None:
    """The agent phoned the debtor before: that makes them the owner."""
    with sessions.begin() as session:
        session.add(Attempt(number=number, debtor_ref=ref, agent=agent, caller_id="+31201234567", state="ended",
                            outcome="no_answer", created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))


def callbacks(sessions: sessionmaker[Session]) -> list[Callback]:
    with sessions() as session:
        return list(session.scalars(select(Callback).order_by(Callback.id)))


@pytest.mark.parametrize(("remote", "number"), [
    ('"Piet Jansen" <sip:+31612345678@10.0.0.7>;tag=a1', "+31612345678"),
    ("sip:0612345678@pbx.example;user=phone", "+31612345678"),
    ("<sips:+32470123456@trunk:5061;transport=tls>", "+32470123456"),
    ("sip:anonymous@anonymous.invalid", None),
    ("sip:pbx.example", None),
    ("sip:12@pbx", None),
    ("", None),
])
def test_the_callers_number_is_read_from_the_uri_and_normalised(remote: str, number: str | None) -> None:
    assert caller_number(remote, "NL") == number


def test_the_greeting_follows_the_team_language() -> None:
    assert greeting_for("nl").name == "return-call-nl.wav"
    assert greeting_for("de").name == "return-call-en.wav"
    for wav in (greeting_for("nl"), greeting_for("en")):
        assert (ROOT / wav).stat().st_size > 10_000


async def test_a_free_owner_sees_the_callers_dossier(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    add_debtor(sessions)
    called_by(sessions, "anna")
    hub = RecordingHub()
    calls = IncomingCalls(sessions, config(tmp_path), hub, busy=lambda agent: False)
    decision = await calls.handle(f"<sip:{DEBTOR}@10.0.0.7>")
    assert (decision.action, decision.debtor_ref, decision.agent) == ("to_agent", "D-1", "anna")
    [event] = hub.published
    assert (event.kind, event.agent, event.debtor_ref, event.number) == ("incoming", "anna", "D-1", DEBTOR)
    assert event.detail["contact"] == "Piet Jansen"
    assert callbacks(sessions) == []


async def test_a_debtor_without_an_owner_gets_a_return_call_for_anyone(sessions: sessionmaker[Session],
                                                                       tmp_path: Path) -> None:
    add_debtor(sessions)
    calls = IncomingCalls(sessions, config(tmp_path), RecordingHub())
    decision = await calls.handle(f"sip:{DEBTOR}@10.0.0.7")
    assert decision.action == "return_call"
    [row] = callbacks(sessions)
    assert (row.kind, row.agent, row.status, row.created_by) == ("return", None, "pending", "incoming")


async def test_an_unknown_number_is_logged_and_nothing_is_booked(sessions: sessionmaker[Session], tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    add_debtor(sessions)
    calls = IncomingCalls(sessions, config(tmp_path), RecordingHub())
    with caplog.at_level(logging.INFO, logger="dialer.calls.incoming"):
        decision = await calls.handle("sip:+31201111111@10.0.0.7")
    assert decision.action == "unknown"
    assert "unknown or hidden number" in caplog.text
    assert callbacks(sessions) == []


async def test_a_debtor_calling_while_their_agent_is_on_a_call_hears_the_message_and_gets_a_return_call_today(
        sessions: sessionmaker[Session], engine: Engine, make_worker: MakeWorker, tmp_path: Path) -> None:
    add_debtor(sessions)
    hub = RecordingHub()
    with SippPeer("answer", keys={"hangup_ms": "60000"}) as line:
        cfg = config(tmp_path, line.uri)
        board = Switchboard(cfg, CallLog(sessions), hub)
        scheduler = CallbackScheduler(sessions, hub, cfg, node="test", mailer=None, reconnect_s=0)
        await scheduler.start()
        calls = IncomingCalls(sessions, cfg, hub, busy=desk_busy(board), on_scheduled=scheduler.schedule)
        panel = hub.subscribe("anna")
        try:
            # Anna is on the phone with the debtor's colleague (an attempt for D-1: she owns the dossier).
            desk = board.desk("anna")
            await desk.dial(CallTarget(DEBTOR, debtor_ref="D-1"), hangup_after_s=60)
            async for event in panel:
                if event.kind == "answered":
                    break
            assert desk.busy
            # The debtor calls back from their own number while Anna is busy.
            phone = await make_worker("127.0.0.1:9", incoming="answer", name="incoming",
                                      greeting=str(ROOT / greeting_for("nl")), on_incoming=calls)
            with SippPeer("call_uac", remote=f"127.0.0.1:{phone.local_port}", max_calls=1,
                          keys={"user": DEBTOR, "hold_ms": "1500"}, extra_args=["-s", "belblok"]) as debtor:
                assert await asyncio.to_thread(debtor.wait, 30) == 0, debtor.errors()
                answered = debtor.received()
            assert any(m.status == 200 and m.cseq_method == "INVITE" for m in answered)  # answered with the message
            await asyncio.wait_for(calls.settled(), 10)
            async for event in panel:  # the scheduler puts the return call at the head of her queue
                if event.kind == "callback_due":
                    break
        finally:
            await panel.aclose()
            await board.close()
            await scheduler.stop()
    assert [d.action for d in calls.decisions] == ["return_call"]
    [row] = callbacks(sessions)
    today = datetime.now(UTC).astimezone(scheduler.zone).date()
    assert (row.kind, row.agent, row.status) == ("return", "anna", "claimed")
    assert row.due_at.astimezone(scheduler.zone).date() == today
    assert row.note and DEBTOR in row.note
    assert event.detail["callback_id"] == row.id and event.detail["kind"] == "return"
    with sessions() as session:
        assert session.scalar(select(func.count(Attempt.id))) == 1  # the incoming call is not an attempt
