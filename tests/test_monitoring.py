"""Listen, whisper, barge: a supervisor's phone joined to a live bridged call, heard by whom the mode says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from softphone.client import WorkerError
from softphone.handle import CallHandle
from tests.conftest import MakeWorker, load_wav, make_tone
from tests.tones import tone_share

DEBTOR_HZ, AGENT_HZ, SUPERVISOR_HZ = 500, 800, 1250
PRESENT, ABSENT = 0.05, 0.01  # shares of a channel's energy; a tone that is there is far above, one absent far below
TALK_S = 2.5  # audio needs wall time: how long the three parties talk once the supervisor is on


async def answered(handle: CallHandle) -> None:
    """Wait until `handle` is answered; fail if it ends first."""
    async for event in handle.events():
        if event.kind == "answered":
            return
        if event.kind == "ended":
            raise AssertionError(f"{handle.ref} ended before it was answered: {event.outcome} {event.sip_reason}")


class Phones:
    """Three softphones that answer, say their own tone and record what they hear."""

    def __init__(self) -> None:
        self.heard: dict[str, list[CallHandle]] = {"debtor": [], "agent": [], "supervisor": []}
        self.uri: dict[str, str] = {}

    async def start(self, make_worker: MakeWorker, tmp: Path) -> None:
        for name, hz in (("debtor", DEBTOR_HZ), ("agent", AGENT_HZ), ("supervisor", SUPERVISOR_HZ)):
            tone = make_tone(tmp / f"{name}.wav", seconds=30, frequency=hz)
            phone = await make_worker("127.0.0.1:9", incoming="answer", greeting=str(tone), greeting_loop=True,
                                      name=f"{name}-phone", on_incoming=self.heard[name].append)
            self.uri[name] = f"sip:{name}@127.0.0.1:{phone.local_port}"

    async def channel(self, name: str):
        """What `name`'s phone heard on its (only) call."""
        result = await asyncio.wait_for(self.heard[name][0].result(), 30)
        return load_wav(result.recording).split_to_mono()[1]


@pytest.fixture
async def phones(make_worker: MakeWorker, tmp_path: Path) -> Phones:
    p = Phones()
    await p.start(make_worker, tmp_path)
    return p


async def monitored_call(make_worker: MakeWorker, phones: Phones, mode: str) -> tuple[str, CallHandle]:
    """Agent line up, debtor call bridged and recorded, supervisor joined in `mode`; the call's recording."""
    desk = await make_worker("127.0.0.1:9")
    line = await desk.open_agent_line(phones.uri["agent"])
    await answered(line)
    call = await desk.dial_uri(phones.uri["debtor"], record=True)
    await answered(call)
    leg = await desk.monitor(call.ref, phones.uri["supervisor"], mode)
    await answered(leg)
    await asyncio.sleep(TALK_S)
    await call.hangup()
    result = await asyncio.wait_for(call.result(), 30)
    await asyncio.wait_for(leg.result(), 30)  # the leg ends with the call it listened to
    await line.hangup()
    return result.recording, leg


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_supervisor_is_heard_by_whom_the_mode_says(make_worker: MakeWorker, phones: Phones, mode: str) -> None:
    recording, leg = await monitored_call(make_worker, phones, mode)
    assert leg.state == "ended"

    supervisor_heard = await phones.channel("supervisor")
    assert tone_share(supervisor_heard, DEBTOR_HZ) > PRESENT  # the debtor…
    assert tone_share(supervisor_heard, AGENT_HZ) > PRESENT  # …and the agent, in every mode

    agent_heard, debtor_heard = await phones.channel("agent"), await phones.channel("debtor")
    assert tone_share(agent_heard, DEBTOR_HZ) > PRESENT and tone_share(debtor_heard, AGENT_HZ) > PRESENT
    agent_hears_supervisor = tone_share(agent_heard, SUPERVISOR_HZ)
    debtor_hears_supervisor = tone_share(debtor_heard, SUPERVISOR_HZ)
    if mode == "listen":
        assert agent_hears_supervisor < ABSENT and debtor_hears_supervisor < ABSENT
    elif mode == "whisper":
        assert agent_hears_supervisor > PRESENT and debtor_hears_supervisor < ABSENT
    else:
        assert agent_hears_supervisor > PRESENT and debtor_hears_supervisor > PRESENT

    ours, theirs = load_wav(recording).split_to_mono()
    assert tone_share(ours, AGENT_HZ) > PRESENT and tone_share(theirs, DEBTOR_HZ) > PRESENT
    if mode == "barge":  # the debtor heard the supervisor: the record of the conversation holds them
        assert tone_share(theirs, SUPERVISOR_HZ) > PRESENT and tone_share(ours, SUPERVISOR_HZ) > PRESENT
    else:  # a whisper never reached the debtor, and is kept out of the recording
        assert tone_share(theirs, SUPERVISOR_HZ) < ABSENT and tone_share(ours, SUPERVISOR_HZ) < ABSENT


async def test_changing_the_mode_rewires_the_same_leg(make_worker: MakeWorker, phones: Phones) -> None:
    desk = await make_worker("127.0.0.1:9")
    line = await desk.open_agent_line(phones.uri["agent"])
    await answered(line)
    call = await desk.dial_uri(phones.uri["debtor"], record=True)
    await answered(call)
    leg = await desk.monitor(call.ref, phones.uri["supervisor"], "listen")
    await answered(leg)
    await asyncio.sleep(1.0)
    assert await desk.monitor(call.ref, phones.uri["supervisor"], "barge") is leg  # no second phone call
    await asyncio.sleep(TALK_S)
    await call.hangup()
    await asyncio.wait_for(leg.result(), 30)
    await line.hangup()
    assert len(phones.heard["supervisor"]) == 1
    assert tone_share(await phones.channel("debtor"), SUPERVISOR_HZ) > PRESENT  # heard once barging began


async def test_monitoring_needs_a_live_bridged_call_and_a_known_mode(make_worker: MakeWorker, phones: Phones) -> None:
    desk = await make_worker("127.0.0.1:9")
    with pytest.raises(WorkerError, match="no live bridged call 'attempt-404'"):
        await desk.monitor("attempt-404", phones.uri["supervisor"])
    line = await desk.open_agent_line(phones.uri["agent"])
    await answered(line)
    with pytest.raises(WorkerError, match="no live bridged call"):  # the agent's own line is not a call to join
        await desk.monitor(line.ref, phones.uri["supervisor"])
    call = await desk.dial_uri(phones.uri["debtor"], record=True)
    await answered(call)
    with pytest.raises(WorkerError, match="unknown monitor mode 'shout'"):
        await desk.monitor(call.ref, phones.uri["supervisor"], "shout")
    assert phones.heard["supervisor"] == []  # nothing was placed
    assert (await desk.ping())["live_calls"] == 2
    await call.hangup()
    await asyncio.wait_for(call.result(), 30)
    with pytest.raises(WorkerError, match="no live bridged call"):  # it ended meanwhile
        await desk.monitor(call.ref, phones.uri["supervisor"])
    await line.hangup()


async def test_a_supervisor_who_does_not_answer_leaves_the_call_as_it_was(make_worker: MakeWorker,
                                                                         phones: Phones) -> None:
    desk = await make_worker("127.0.0.1:9")
    nobody = await make_worker("127.0.0.1:9", name="busy-phone")  # incoming calls refused with 480
    line = await desk.open_agent_line(phones.uri["agent"])
    await answered(line)
    call = await desk.dial_uri(phones.uri["debtor"], record=True)
    await answered(call)
    leg = await desk.monitor(call.ref, f"sip:chef@127.0.0.1:{nobody.local_port}")
    result = await asyncio.wait_for(leg.result(), 30)
    assert result.outcome != "answered" and call.state == "answered"
    await call.hangup()
    await asyncio.wait_for(call.result(), 30)
    await line.hangup()
