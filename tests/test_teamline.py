"""The team's number: a debtor calling in is put through to their free agent's line, or gets a return call."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.calllog.attempt import Attempt
from dialer.calllog.journal import CallLog
from dialer.calls.desk import Switchboard
from dialer.calls.teamline import TeamLine, greeting_path
from dialer.dossiers.callbacks import Callback
from dialer.settings.config import Config, ConfigError, parse
from softphone.handle import CallHandle
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, ROOT, MakeWorker, load_wav, make_tone
from tests.test_incoming import called_by
from tests.test_scheduler import RecordingHub, add_debtor


def config(tmp_path: Path, agent_line: str = "", **incoming: object) -> Config:
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in incoming.items())
    return parse(f"""
[sip]
trunk = "127.0.0.1:9"
caller_id = "+31201234567"
response_timeout_s = 2
ring_timeout_s = 10
[recording]
dir = "{tmp_path / 'rec'}"
[agent]
line = "{agent_line}"
[team]
timezone = "Europe/Amsterdam"
[incoming]
enabled = true
{extra}""")


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    return make_tone(tmp_path / "debtor.wav")


def return_calls(sessions: sessionmaker[Session]) -> list[Callback]:
    with sessions() as session:
        return list(session.scalars(select(Callback).where(Callback.kind == "return")))


async def test_a_debtor_calling_their_free_agent_is_put_through_onto_the_agent_line(
        sessions: sessionmaker[Session], make_worker: MakeWorker, tmp_path: Path, tone: Path) -> None:
    add_debtor(sessions)
    called_by(sessions, "anna")
    phones: asyncio.Queue[CallHandle] = asyncio.Queue()
    agent_phone = await make_worker("127.0.0.1:9", incoming="answer", name="agent-phone", on_incoming=phones.put_nowait)
    cfg = config(tmp_path, agent_line=f"sip:anna@127.0.0.1:{agent_phone.local_port}")
    hub = RecordingHub()
    board = Switchboard(cfg, CallLog(sessions), hub)
    line = TeamLine(cfg, sessions, board, hub, config_dir=ROOT / "config")
    await line.start()
    panel = hub.subscribe("anna")
    try:
        caller = await make_worker("127.0.0.1:9", caller_id=DEBTOR, name="debtor")
        call = await caller.dial_uri(f"sip:team@127.0.0.1:{line.port}", announcement=str(tone), hangup_after_s=2.5,
                                     record=False, bridge=False)
        kinds = []
        async for event in panel:
            kinds.append(event.kind)
            if event.kind == "ended":
                break
        result = await asyncio.wait_for(call.result(), 30)
        await asyncio.wait_for(line.calls.settled(), 10)
    finally:
        await panel.aclose()
        await line.stop()
        await board.close()
    assert result.outcome == "answered"
    assert [d.action for d in line.calls.decisions] == ["to_agent"]
    assert kinds[0] == "incoming" and "answered" in kinds  # the dossier opens, then the live call shows
    with sessions() as session:
        attempt = session.scalars(select(Attempt).where(Attempt.direction == "in")).one()
    assert (attempt.number, attempt.debtor_ref, attempt.agent, attempt.contact_ref) == (DEBTOR, "D-1", "anna",
                                                                                         "Piet Jansen")
    assert attempt.answered_at is not None and attempt.outcome == "answered"
    assert return_calls(sessions) == []
    # Anna's phone (the agent line) heard the debtor.
    heard = await asyncio.wait_for((await phones.get()).result(), 30)
    assert load_wav(heard.recording).split_to_mono()[1].rms > 100


async def test_an_agent_line_nobody_answers_turns_the_call_into_a_return_call(
        sessions: sessionmaker[Session], make_worker: MakeWorker, tmp_path: Path) -> None:
    add_debtor(sessions)
    called_by(sessions, "anna")
    hub = RecordingHub()
    with SippPeer("reject", keys={"code": 486, "reason": "Busy Here"}) as anna_phone:
        cfg = config(tmp_path, agent_line=f"sip:anna@{anna_phone.uri}")
        board = Switchboard(cfg, CallLog(sessions), hub)
        line = TeamLine(cfg, sessions, board, hub, config_dir=ROOT / "config")
        await line.start()
        try:
            caller = await make_worker("127.0.0.1:9", caller_id=DEBTOR, name="debtor")
            call = await caller.dial_uri(f"sip:team@127.0.0.1:{line.port}", hangup_after_s=1.0, record=False,
                                         bridge=False)
            result = await asyncio.wait_for(call.result(), 30)
            await asyncio.wait_for(line.calls.settled(), 10)
        finally:
            await line.stop()
            await board.close()
    assert result.outcome == "answered"  # by the recorded message
    assert [d.action for d in line.calls.decisions] == ["return_call"]
    [row] = return_calls(sessions)
    assert (row.agent, row.status) == ("anna", "pending")


async def test_a_call_straight_to_a_desk_without_a_transfer_token_is_refused(
        sessions: sessionmaker[Session], make_worker: MakeWorker, tmp_path: Path) -> None:
    phones: asyncio.Queue[CallHandle] = asyncio.Queue()
    agent_phone = await make_worker("127.0.0.1:9", incoming="answer", name="agent-phone", on_incoming=phones.put_nowait)
    cfg = config(tmp_path, agent_line=f"sip:anna@127.0.0.1:{agent_phone.local_port}")
    hub = RecordingHub()
    board = Switchboard(cfg, CallLog(sessions), hub)
    try:
        desk = board.desk("anna")
        from dialer.calls.desk import CallTarget

        uri, _token = await desk.expect_transfer(CallTarget(DEBTOR, debtor_ref="D-1"))
        stranger = await make_worker("127.0.0.1:9", caller_id="+31699999999", name="stranger")
        call = await stranger.dial_uri(uri, record=False, bridge=False)
        result = await asyncio.wait_for(call.result(), 30)
        assert not desk.busy
    finally:
        await board.close()
    assert result.sip_code == 403
    with sessions() as session:
        assert session.scalars(select(Attempt)).all() == []


def test_a_missing_greeting_is_a_clear_configuration_error(tmp_path: Path) -> None:
    cfg = config(tmp_path, greeting=str(tmp_path / "nope.wav"))
    with pytest.raises(ConfigError, match=r"\[incoming\] greeting: no WAV file"):
        greeting_path(cfg)
    assert greeting_path(config(tmp_path), ROOT / "config").endswith("return-call-nl.wav")  # a Dutch team
