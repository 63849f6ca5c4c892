"""The agent line: the agent's own phone, bridged to each answered debtor call and recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, MakeWorker, load_wav, make_tone


@pytest.fixture
def agent_voice(tmp_path: Path) -> Path:
    """A WAV the simulated agent 'says': a 440 Hz tone made by ffmpeg."""
    return make_tone(tmp_path / "agent.wav", seconds=2)


async def test_debtor_call_is_bridged_to_the_agent_phone_and_both_are_recorded(
        make_worker: MakeWorker, agent_voice: Path) -> None:
    phones: list = []
    # The agent's phone is a second softphone process that answers, talks and records what it hears.
    phone = await make_worker("127.0.0.1:9", incoming="answer", greeting=str(agent_voice), greeting_loop=True,
                              name="agent-phone", on_incoming=phones.append)
    phone_port = phone.local_port
    with SippPeer("answer") as debtor:
        worker = await make_worker(debtor.uri)
        line = await worker.open_agent_line(f"sip:agent@127.0.0.1:{phone_port}")
        async for event in line.events():
            if event.kind in ("answered", "ended"):
                break
        assert line.state == "answered"
        result = await asyncio.wait_for((await worker.dial(DEBTOR, hangup_after_s=2.0)).result(), 30)
        assert line.state == "answered"  # the agent line outlives the debtor call
        await line.hangup()
        await asyncio.wait_for(line.result(), 30)
    heard = await asyncio.wait_for(phones[0].result(), 30)

    stereo = load_wav(result.recording)
    agent_channel, debtor_channel = stereo.split_to_mono()
    assert agent_channel.rms > 100 and debtor_channel.rms > 100  # both parties on their own channel
    assert len(stereo) / 1000 == pytest.approx(2.0, abs=0.5)
    # What the agent's phone heard while the debtor was bridged: the debtor's audio.
    assert load_wav(heard.recording).split_to_mono()[1].rms > 100


async def test_agent_line_that_is_not_answered_ends_with_its_outcome(make_worker: MakeWorker) -> None:
    with SippPeer("reject", keys={"code": 486, "reason": "Busy Here"}) as busy_phone:
        worker = await make_worker("127.0.0.1:9")
        line = await worker.open_agent_line(f"sip:agent@{busy_phone.uri}")
        result = await asyncio.wait_for(line.result(), 30)
    assert result.outcome == "busy"

