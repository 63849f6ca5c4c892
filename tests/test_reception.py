"""A worker's reception: incoming calls held ringing until routed — greeted, refused, bridged or forwarded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from softphone.handle import CallHandle
from softphone.reception import TRANSFER_HEADER, transfer_token
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, ROOT, MakeWorker, load_wav, make_tone

GREETING = str(ROOT / "config/return-call-nl.wav")


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    """What the calling debtor 'says'."""
    return make_tone(tmp_path / "tone.wav")


class Inbox:
    """Incoming call handles as a worker reports them, awaitable one by one."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[CallHandle] = asyncio.Queue()

    def __call__(self, handle: CallHandle) -> None:
        self.queue.put_nowait(handle)

    async def next(self) -> CallHandle:
        return await asyncio.wait_for(self.queue.get(), 30)


async def held_call(make_worker: MakeWorker, **reception: object) -> tuple[CallHandle, CallHandle]:
    """A debtor's softphone calls a worker in `ask` mode: (the caller's call, the incoming call held there)."""
    inbox = Inbox()
    caller = await make_worker("127.0.0.1:9", caller_id=DEBTOR, name="debtor")
    reception.setdefault("ask_timeout_s", 30)
    worker = await make_worker("127.0.0.1:9", incoming="ask", on_incoming=inbox, **reception)
    call = await caller.dial_uri(f"sip:belblok@127.0.0.1:{worker.local_port}")
    return call, await inbox.next()


async def until(handle: CallHandle, *kinds: str) -> str:
    """Wait for the first of `kinds` (or the end) on `handle`; returns the kind seen."""
    async for event in handle.events():
        if event.kind in kinds or event.kind == "ended":
            return event.kind
    return handle.state


def test_transfer_token_is_read_from_the_invite_head_only() -> None:
    invite = f"INVITE sip:x@h SIP/2.0\r\n{TRANSFER_HEADER}: abc123\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\n"
    assert transfer_token(invite) == "abc123"
    assert transfer_token("INVITE sip:x@h SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\nX-Belblok-Transfer: body\r\n") is None


async def test_a_held_call_rings_until_routed_then_is_greeted(make_worker: MakeWorker) -> None:
    inbox = Inbox()
    reception = await make_worker("127.0.0.1:9", incoming="ask", greeting=GREETING, on_incoming=inbox,
                                  ask_timeout_s=30)
    with SippPeer("call_uac", remote=f"127.0.0.1:{reception.local_port}", max_calls=1,
                  keys={"user": DEBTOR, "hold_ms": "500"}, extra_args=["-s", "belblok"]) as caller:
        held = await inbox.next()
        assert DEBTOR in held.uri
        ringing = await asyncio.to_thread(caller.wait_for, lambda m: m.status == 180, 10)
        assert ringing.cseq_method == "INVITE"
        assert not any(m.status == 200 for m in caller.received())  # nobody answered before the route
        assert (await held.route("greet"))["state"] == "greet"
        assert await asyncio.to_thread(caller.wait, 30) == 0, caller.errors()
    result = await asyncio.wait_for(held.result(), 30)
    assert result.outcome == "answered"
    assert result.recording  # what the caller said after the message is kept


async def test_a_call_nobody_routes_falls_back_to_the_greeting(make_worker: MakeWorker) -> None:
    inbox = Inbox()
    reception = await make_worker("127.0.0.1:9", incoming="ask", greeting=GREETING, on_incoming=inbox,
                                  ask_timeout_s=0.5)
    with SippPeer("call_uac", remote=f"127.0.0.1:{reception.local_port}", max_calls=1,
                  keys={"user": DEBTOR, "hold_ms": "300"}, extra_args=["-s", "belblok"]) as caller:
        assert await asyncio.to_thread(caller.wait, 30) == 0, caller.errors()
    held = await inbox.next()
    assert (await asyncio.wait_for(held.result(), 30)).outcome == "answered"


async def test_without_a_greeting_an_unrouted_call_is_refused_with_480(make_worker: MakeWorker) -> None:
    caller = await make_worker("127.0.0.1:9", caller_id=DEBTOR, name="debtor")
    reception = await make_worker("127.0.0.1:9", incoming="ask", ask_timeout_s=0.5)
    call = await caller.dial_uri(f"sip:belblok@127.0.0.1:{reception.local_port}")
    result = await asyncio.wait_for(call.result(), 30)
    assert (result.sip_code, result.outcome) == (480, "unavailable")


async def test_route_reject_sends_the_code_asked_for(make_worker: MakeWorker) -> None:
    call, held = await held_call(make_worker)
    await held.route("reject", code=486)
    assert (await asyncio.wait_for(call.result(), 30)).outcome == "busy"
    assert (await asyncio.wait_for(held.result(), 30)).outcome == "declined"


async def test_bridge_without_an_agent_line_is_refused_busy(make_worker: MakeWorker) -> None:
    call, held = await held_call(make_worker, name="desk")
    assert (await held.route("bridge"))["state"] == "busy"
    assert (await asyncio.wait_for(call.result(), 30)).sip_code == 486


async def test_a_routed_call_is_forwarded_to_the_desk_and_the_agent_hears_the_caller(
        make_worker: MakeWorker, tone: Path) -> None:
    reception_inbox, desk_inbox, agent_inbox = Inbox(), Inbox(), Inbox()
    agent_phone = await make_worker("127.0.0.1:9", incoming="answer", name="agent-phone", on_incoming=agent_inbox)
    desk = await make_worker("127.0.0.1:9", incoming="ask", name="desk", on_incoming=desk_inbox, ask_timeout_s=30)
    line = await desk.open_agent_line(f"sip:agent@127.0.0.1:{agent_phone.local_port}")
    assert await until(line, "answered") == "answered"
    reception = await make_worker("127.0.0.1:9", incoming="ask", name="reception", greeting=GREETING,
                                  on_incoming=reception_inbox, ask_timeout_s=30)
    caller = await make_worker("127.0.0.1:9", caller_id=DEBTOR, name="debtor")
    # The debtor calls the team number and talks (a tone) from the moment it is answered.
    call = await caller.dial_uri(f"sip:belblok@127.0.0.1:{reception.local_port}", announcement=str(tone),
                                 hangup_after_s=2.5, record=False, bridge=False)
    held = await reception_inbox.next()
    await held.route("forward", uri=f"sip:desk@127.0.0.1:{desk.local_port}", headers={TRANSFER_HEADER: "t0k3n"})
    transferred = await desk_inbox.next()
    assert transferred.transfer == "t0k3n"
    assert call.state != "answered"  # the caller is answered only once the desk has taken it
    assert (await transferred.route("bridge", record=True))["state"] == "bridge"
    assert await until(held, "forwarded") == "forwarded"
    assert (await asyncio.wait_for(call.result(), 30)).outcome == "answered"
    desk_result = await asyncio.wait_for(transferred.result(), 30)  # the caller's BYE ends every leg
    assert (await asyncio.wait_for(held.result(), 30)).outcome == "answered"
    await line.hangup()
    heard = await asyncio.wait_for((await agent_inbox.next()).result(), 30)
    assert load_wav(heard.recording).split_to_mono()[1].rms > 100  # the agent's phone heard the debtor
    stereo = load_wav(desk_result.recording)  # the desk recorded it like a debtor call: debtor on the right
    assert stereo.split_to_mono()[1].rms > 100


async def test_a_forward_nobody_takes_falls_back_to_the_greeting(make_worker: MakeWorker) -> None:
    reception_inbox = Inbox()
    caller = await make_worker("127.0.0.1:9", caller_id=DEBTOR, name="debtor")
    reception = await make_worker("127.0.0.1:9", incoming="ask", greeting=GREETING, on_incoming=reception_inbox,
                                  ask_timeout_s=30)
    with SippPeer("reject", keys={"code": 486, "reason": "Busy Here"}) as busy_desk:
        call = await caller.dial_uri(f"sip:belblok@127.0.0.1:{reception.local_port}", hangup_after_s=1.0,
                                     record=False, bridge=False)
        held = await reception_inbox.next()
        await held.route("forward", uri=f"sip:desk@{busy_desk.uri}")
        failed = None
        async for event in held.events():
            if event.kind == "forward_failed":
                failed = event
            if event.kind in ("forward_failed", "ended"):
                break
    assert failed is not None and (failed.sip_code, failed.outcome) == (486, "busy")
    assert (await asyncio.wait_for(call.result(), 30)).outcome == "answered"  # greeted instead


async def test_an_unknown_route_action_is_refused_and_the_call_still_falls_back(make_worker: MakeWorker) -> None:
    call, held = await held_call(make_worker, ask_timeout_s=1.0)
    with pytest.raises(Exception, match="unknown route action"):
        await held.route("teleport")
    assert (await asyncio.wait_for(call.result(), 30)).sip_code == 480
