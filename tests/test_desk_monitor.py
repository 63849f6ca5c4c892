"""A supervisor on an agent's call through the desk: the phone rings, hears the debtor, every action is logged."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dialer.calllog.journal import CallLog
from dialer.calllog.monitoring import actions_on
from dialer.calls.desk import CallTarget, Switchboard
from dialer.calls.monitor import MonitorError
from dialer.live.events import EventHub
from dialer.settings.config import parse
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, MakeWorker, load_wav, make_tone


def config(trunk: str, agent_line: str, tmp_path: Path, *, show: bool = True):
    return parse(f"""
[sip]
trunk = "{trunk}"
caller_id = "+31201234567"
response_timeout_s = 2
[agent]
line = "{agent_line}"
[recording]
dir = "{tmp_path / 'rec'}"
[wallboard]
show_monitoring = {"true" if show else "false"}
""")


async def phone(make_worker: MakeWorker, tmp_path: Path, name: str, heard: list) -> str:
    """A softphone that answers, says a tone and records what it hears; its SIP URI."""
    tone = make_tone(tmp_path / f"{name}.wav", seconds=30, frequency=700)
    worker = await make_worker("127.0.0.1:9", incoming="answer", greeting=str(tone), greeting_loop=True,
                               name=name, on_incoming=heard.append)
    return f"sip:{name}@127.0.0.1:{worker.local_port}"


async def until(hub_queue: asyncio.Queue, kind: str, **detail: object):
    """The next event of `kind` whose detail holds `detail`."""
    while True:
        event = await asyncio.wait_for(hub_queue.get(), 30)
        if event.kind == kind and all(event.detail.get(k) == v for k, v in detail.items()):
            return event


@pytest.mark.parametrize("show", [True, False], ids=["told", "silent"])
async def test_a_supervisor_listens_in_and_every_action_is_logged_on_the_attempt(
        calllog: CallLog, make_worker: MakeWorker, tmp_path: Path, show: bool) -> None:
    agent_heard: list = []
    chef_heard: list = []
    agent_uri = await phone(make_worker, tmp_path, "agent-phone", agent_heard)
    chef_uri = await phone(make_worker, tmp_path, "chef-phone", chef_heard)
    hub = EventHub()
    events = hub.listen("anna")
    with SippPeer("answer") as debtor:
        board = Switchboard(config(debtor.uri, agent_uri, tmp_path, show=show), calllog, hub)
        try:
            desk = board.desk("anna")
            attempt_id = await desk.dial(CallTarget(DEBTOR, debtor_ref="D-1"), hangup_after_s=60)
            await until(events, "answered")
            joined = await desk.supervise("chef", chef_uri, "listen")
            assert (joined["attempt_id"], joined["mode"], joined["supervisor"]) == (attempt_id, "listen", "chef")
            with pytest.raises(MonitorError, match="chef is already on this call"):
                await desk.supervise("dirk", chef_uri, "listen")
            async for event in desk.monitor.leg.events():
                if event.kind == "answered":
                    break
            assert (await desk.supervise("chef", chef_uri, "whisper"))["mode"] == "whisper"
            await asyncio.sleep(1.5)  # audio needs wall time
            await desk.supervise("chef", None, "stop")
            with pytest.raises(MonitorError, match="nobody is listening in"):
                await desk.supervise("chef", None, "stop")
            await desk.hangup()
            await desk.wait_ended()
        finally:
            await board.close()
    with calllog._sessions() as session:
        log = actions_on(session, attempt_id)
    assert [(a["supervisor"], a["action"]) for a in log] == [("chef", "listen"), ("chef", "whisper"), ("chef", "stop")]
    heard = await asyncio.wait_for(chef_heard[0].result(), 30)
    assert load_wav(heard.recording).split_to_mono()[1].rms > 100  # the supervisor's phone heard the debtor
    told = []
    while not events.empty():
        event = events.get_nowait()
        if event.kind == "monitor":
            told.append(event.detail["mode"])
    assert told == (["listen", "whisper", None] if show else [])  # silent monitoring tells the panel nothing


async def test_monitoring_is_refused_with_a_reason_and_nothing_is_logged(
        calllog: CallLog, make_worker: MakeWorker, tmp_path: Path) -> None:
    agent_uri = await phone(make_worker, tmp_path, "agent-phone", [])
    hub = EventHub()
    with SippPeer("answer") as debtor:
        board = Switchboard(config(debtor.uri, agent_uri, tmp_path), calllog, hub)
        try:
            desk = board.desk("anna")
            with pytest.raises(MonitorError, match="not in a conversation"):
                await desk.supervise("chef", "sip:chef@127.0.0.1:9", "listen")
            events = hub.listen("anna")
            attempt_id = await desk.dial(CallTarget(DEBTOR, debtor_ref="D-1"), hangup_after_s=60)
            await until(events, "answered")
            with pytest.raises(MonitorError, match="chef has no phone in their profile"):
                await desk.supervise("chef", None, "listen")
            with pytest.raises(MonitorError, match="unknown mode 'shout'"):
                await desk.supervise("chef", "sip:chef@127.0.0.1:9", "shout")
            await desk.hangup()
            await desk.wait_ended()
            with pytest.raises(MonitorError, match="not in a conversation"):  # the call ended meanwhile
                await desk.supervise("chef", "sip:chef@127.0.0.1:9", "listen")
        finally:
            await board.close()
    with calllog._sessions() as session:
        assert actions_on(session, attempt_id) == []
