"""An agent's desk: dial, live events in order, one call at a time, hang up."""

from __future__ import annotations

import asyncio

import pytest

from dialer.calllog.journal import CallLog
from dialer.calls.desk import CallTarget, DeskBusy, Switchboard
from dialer.live.events import EventHub
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR
from tests.test_worker_crash import config_for


async def collect(hub: EventHub, agent: str, until: str, into: list) -> None:
    async for event in hub.subscribe(agent):
        into.append(event)
        if event.kind == until:
            return


async def test_a_call_from_the_desk_publishes_each_state_and_is_journalled(calllog: CallLog, tmp_path) -> None:
    hub = EventHub()
    events: list = []
    with SippPeer("answer") as peer:
        board = Switchboard(config_for(peer.uri, tmp_path), calllog, hub)
        listener = asyncio.ensure_future(collect(hub, "anna", "recording", events))
        await asyncio.sleep(0)  # let the listener subscribe before anything is published
        try:
            desk = board.desk("anna")
            attempt_id = await desk.dial(CallTarget(DEBTOR, debtor_ref="D-1", contact_ref="Piet"), hangup_after_s=1)
            with pytest.raises(DeskBusy):
                await desk.dial(CallTarget(DEBTOR))
            await asyncio.wait_for(listener, 30)
        finally:
            await board.close()
    assert [e.kind for e in events] == ["dialing", "ringing", "answered", "ended", "recording"]
    assert {e.attempt_id for e in events} == {attempt_id}
    assert events[3].outcome == "answered"
    row = calllog.get(attempt_id)
    assert (row.debtor_ref, row.contact_ref, row.agent, row.outcome) == ("D-1", "Piet", "anna", "answered")
    assert row.recording_path


async def test_hangup_while_ringing_is_cancelled(calllog: CallLog, tmp_path) -> None:
    hub = EventHub()
    with SippPeer("ring") as peer:
        board = Switchboard(config_for(peer.uri, tmp_path), calllog, hub)
        try:
            desk = board.desk("bert")
            attempt_id = await desk.dial(CallTarget(DEBTOR))
            async for event in hub.subscribe("bert"):
                if event.kind == "ringing":
                    await desk.hangup()
                if event.kind == "ended":
                    break
            await desk.wait_ended()
        finally:
            await board.close()
    assert calllog.get(attempt_id).outcome == "cancelled"


async def test_team_events_reach_every_panel_once_and_agent_events_only_theirs() -> None:
    from datetime import datetime, timezone

    from dialer.live.events import LiveEvent

    hub = EventHub()
    anna, bert, monitor = hub.listen("anna"), hub.listen("bert"), hub.listen("*")
    at = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    hub.publish(LiveEvent(agent="*", kind="reminder", at=at))
    hub.publish(LiveEvent(agent="anna", kind="callback_due", at=at))
    assert [q.qsize() for q in (anna, bert, monitor)] == [2, 1, 2]
    assert bert.get_nowait().kind == "reminder"


def test_a_late_event_of_an_older_call_does_not_hide_the_current_one() -> None:
    from datetime import datetime, timezone

    from dialer.live.events import LiveEvent

    hub = EventHub()
    at = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    hub.publish(LiveEvent(agent="anna", kind="ended", at=at, attempt_id=1))
    hub.publish(LiveEvent(agent="anna", kind="dialing", at=at, attempt_id=2))
    hub.publish(LiveEvent(agent="anna", kind="recording", at=at, attempt_id=1))
    assert (hub.last["anna"].attempt_id, hub.last["anna"].kind) == (2, "dialing")
