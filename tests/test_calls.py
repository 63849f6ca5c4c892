"""Real calls from a worker process to SIPp on loopback: every outcome, with its SIP facts."""

from __future__ import annotations

import asyncio
import socket

import pytest

from softphone.sipp import GarbagePeer, SippPeer, free_port
from tests.conftest import DEBTOR, MakeWorker, load_wav

RESULT_TIMEOUT = 60


async def call_result(worker, **options):
    handle = await worker.dial(DEBTOR, **options)
    return await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)


async def test_answered_call_is_recorded_in_stereo_with_the_debtor_audible(make_worker: MakeWorker) -> None:
    with SippPeer("answer") as peer:
        worker = await make_worker(peer.uri)
        result = await call_result(worker, hangup_after_s=2.0)
    assert result.outcome == "answered"
    assert (result.sip_code, result.code_source) == (200, "wire")
    assert result.answered_at is not None and result.ringing_at is not None
    assert result.ended_at - result.answered_at == pytest.approx(2.0, abs=0.5)
    audio = load_wav(result.recording)
    assert audio.channels == 2
    assert len(audio) / 1000 == pytest.approx(2.0, abs=0.5)
    agent, debtor = audio.split_to_mono()
    assert debtor.rms > 100  # SIPp streams the g711a sample: not silence
    assert agent.rms == 0  # no agent line: nobody on the agent channel


@pytest.mark.parametrize(("code", "reason", "outcome"), [
    (486, "Busy Here", "busy"),
    (600, "Busy Everywhere", "busy"),
    (603, "Decline", "declined"),
    (404, "Not Found", "not_found"),
    (410, "Gone", "not_found"),
    (484, "Address Incomplete", "not_found"),
    (480, "Temporarily Unavailable", "unavailable"),
    (502, "Bad Gateway", "unavailable"),
    (503, "Service Unavailable", "unavailable"),
    (504, "Server Time-out", "unavailable"),
    (433, "Anonymity Disallowed", "anonymity_rejected"),
])
async def test_rejections_keep_the_wire_code_and_reason(make_worker: MakeWorker, code: int, reason: str,
                                                         outcome: str) -> None:
    with SippPeer("reject", keys={"code": code, "reason": reason}) as peer:
        worker = await make_worker(peer.uri)
        result = await call_result(worker)
    assert (result.outcome, result.sip_code, result.sip_reason, result.code_source) == (outcome, code, reason, "wire")
    assert result.answered_at is None and result.recording is None


async def test_ringing_without_answer_is_cancelled_after_the_ring_timeout(make_worker: MakeWorker) -> None:
    with SippPeer("ring") as peer:
        worker = await make_worker(peer.uri)
        result = await call_result(worker, ring_timeout_s=1.5)
        cancel = peer.wait_for(lambda m: m.method == "CANCEL", timeout=10)
        peer_487 = peer.wait_for(lambda m: m.status == 487, timeout=10)
    assert result.outcome == "no_answer"
    # pjsua ends the call as soon as it sends the CANCEL: its 487 is local, SIPp's comes later.
    assert (result.sip_code, result.code_source) == (487, "local")
    assert peer_487.direction == "sent"
    assert result.ringing_at is not None
    assert result.ended_at - result.calling_at == pytest.approx(1.5, abs=0.6)
    assert cancel.call_id == result.sip_call_id


async def test_agent_hanging_up_while_it_rings_is_cancelled(make_worker: MakeWorker) -> None:
    with SippPeer("ring") as peer:
        worker = await make_worker(peer.uri)
        handle = await worker.dial(DEBTOR, ring_timeout_s=60)
        async for event in handle.events():
            if event.kind == "ringing":
                await handle.hangup()
            if event.kind == "ended":
                break
        result = await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
    assert result.outcome == "cancelled"
    assert result.sip_code == 487


async def test_nothing_listening_is_a_network_error_not_a_no_answer(make_worker: MakeWorker) -> None:
    port = free_port("udp")
    worker = await make_worker(f"127.0.0.1:{port}", no_response_timeout_s=1.0)
    result = await call_result(worker, ring_timeout_s=30)
    assert result.outcome == "network_error"
    assert (result.sip_code, result.code_source) == (408, "local")
    assert result.ringing_at is None
    # The response timeout ended it, not the 30 s ring timeout.
    assert result.ended_at - result.calling_at < 10


async def test_tcp_connection_refused_is_a_local_network_error(make_worker: MakeWorker) -> None:
    port = free_port("tcp")
    worker = await make_worker(f"127.0.0.1:{port}", transport="tcp")
    result = await call_result(worker)
    assert result.outcome == "network_error"
    assert result.code_source == "local"


async def test_call_over_tcp_is_answered(make_worker: MakeWorker) -> None:
    with SippPeer("answer", transport="tcp") as peer:
        worker = await make_worker(peer.uri, transport="tcp")
        result = await call_result(worker, hangup_after_s=1.0)
        invite = peer.wait_for(lambda m: m.method == "INVITE", timeout=5)
    assert result.outcome == "answered"
    assert invite.transport == "TCP"


async def test_a_trunk_that_answers_garbage_is_a_network_error(make_worker: MakeWorker) -> None:
    peer = GarbagePeer().start()
    try:
        worker = await make_worker(peer.uri, no_response_timeout_s=1.0)
        result = await call_result(worker)
        alive = await worker.ping()
    finally:
        peer.stop()
    assert result.outcome == "network_error"
    assert result.code_source == "local"
    assert alive["live_calls"] == 0  # the worker shrugged it off


async def test_calls_beyond_the_four_slots_queue_instead_of_failing(make_worker: MakeWorker) -> None:
    with SippPeer("answer") as peer:
        worker = await make_worker(peer.uri)
        handles = [await worker.dial(DEBTOR, hangup_after_s=0.5, record=False) for _ in range(6)]
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), RESULT_TIMEOUT)
    assert [r.outcome for r in results] == ["answered"] * 6
    assert len({r.sip_call_id for r in results}) == 6


async def test_unknown_hangup_is_refused_without_harm(make_worker: MakeWorker) -> None:
    with SippPeer("answer") as peer:
        worker = await make_worker(peer.uri)
        await worker.hangup("no-such-call")  # logged, not raised
        result = await call_result(worker, hangup_after_s=0.5, record=False)
    assert result.outcome == "answered"


def test_free_port_is_really_free() -> None:
    port = free_port("udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))


async def test_on_demand_recording_starts_when_asked(make_worker: MakeWorker) -> None:
    with SippPeer("answer") as peer:
        worker = await make_worker(peer.uri)
        handle = await worker.dial(DEBTOR, hangup_after_s=2.5, record=False)
        async for event in handle.events():
            if event.kind == "answered":
                answered = event.at
                assert await handle.start_recording()
                assert not await handle.start_recording()  # already recording
            if event.kind == "ended":
                break
        result = await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
    assert result.recording is not None
    assert handle.recording_started_at is not None and handle.recording_started_at >= answered
    assert len(load_wav(result.recording)) / 1000 == pytest.approx(2.5, abs=0.6)


async def test_unrecorded_call_has_no_recording(make_worker: MakeWorker) -> None:
    with SippPeer("answer") as peer:
        worker = await make_worker(peer.uri)
        result = await call_result(worker, hangup_after_s=0.5, record=False)
    assert result.outcome == "answered" and result.recording is None


async def test_announcement_is_played_to_the_debtor(make_worker: MakeWorker, tmp_path) -> None:
    import subprocess

    announcement = tmp_path / "announce.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=880:duration=1",
                    "-ar", "16000", "-ac", "1", str(announcement)], check=True)
    phone_calls: list = []
    # A second softphone plays the debtor and records what it hears.
    debtor = await make_worker("127.0.0.1:9", incoming="answer", name="debtor-phone", on_incoming=phone_calls.append)
    worker = await make_worker("127.0.0.1:9")
    handle = await worker.dial_uri(f"sip:debtor@127.0.0.1:{debtor.local_port}", hangup_after_s=2.0,
                                   announcement=str(announcement))
    await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
    heard = await asyncio.wait_for(phone_calls[0].result(), RESULT_TIMEOUT)
    debtor_heard = load_wav(heard.recording).split_to_mono()[1]
    assert debtor_heard[:1000].rms > 100  # the announcement, at the start
