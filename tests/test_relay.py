"""The event relay's wire form, and two hubs on one PostgreSQL hearing each other (never themselves)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from dialer.live.events import EventHub, LiveEvent
from dialer.live.relay import EventRelay, decode, encode
from dialer.storage.database import make_engine

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_an_event_goes_over_the_wire_whole_and_a_large_one_is_not_sent() -> None:
    event = LiveEvent(agent="anna", kind="callback_due", at=AT, debtor_ref="D-1", detail={"callback_id": 7,
                                                                                           "naam": "Bäcker"})
    assert decode(encode("node-a", event) or "") == ("node-a", event)
    assert encode("node-a", LiveEvent(agent="anna", kind="error", at=AT, detail={"text": "x" * 9000})) is None


async def test_two_hubs_on_one_database_hear_each_other_once_and_not_themselves(postgres_server: str) -> None:
    engine = make_engine(postgres_server)
    first, second = EventHub(), EventHub()
    relays = [EventRelay(first, engine), EventRelay(second, engine)]
    for relay in relays:
        await relay.start()
    try:
        anna_on_second, anna_on_first = second.listen("anna"), first.listen("anna")
        told: list[LiveEvent] = []
        first.observers.append(told.append)
        sent = [LiveEvent(agent="anna", kind="callback_due", at=AT, detail={"callback_id": n}) for n in range(5)]
        for event in sent:
            first.publish(event)
        heard = [await asyncio.wait_for(anna_on_second.get(), 10) for _ in sent]
        assert heard == sent  # in order, each once
        barrier = LiveEvent(agent="anna", kind="agent_state", at=AT, detail={"state": "ready"})
        second.publish(barrier)
        assert await asyncio.wait_for(anna_on_first.get(), 10) in sent  # first's own events, delivered locally
        while (event := await asyncio.wait_for(anna_on_first.get(), 10)) != barrier:
            assert event in sent  # the rest of its own, never one back from the relay
        back = LiveEvent(agent="anna", kind="agent_state", at=AT, detail={"state": "paused"})
        first.publish(back)  # sent after first heard the barrier: behind any echo of it on second's connection
        assert [await asyncio.wait_for(anna_on_second.get(), 10) for _ in range(2)] == [barrier, back]
        assert told == [*sent, back]  # relayed events are not told to the observers (the floor stored them)
    finally:
        for relay in relays:
            await relay.stop()
        engine.dispose()
