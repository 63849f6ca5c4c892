"""Panel presence across coordinators: an appointment is released only when its owner has no panel open anywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.dossiers.callbacks import Callback
from dialer.live.presence import STALE, PanelPresence, Presence
from tests.test_scheduler import (
    T0,
    Clock,
    RecordingHub,
    add_callback,
    add_debtor,
    scheduler_for,
)


def rows(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(r.agent, r.node) for r in session.scalars(select(PanelPresence).order_by(PanelPresence.agent))]


async def test_a_heartbeat_records_open_panels_and_forgets_closed_ones(sessions: sessionmaker[Session]) -> None:
    hub = RecordingHub()
    presence = Presence(sessions, hub, "node-a", clock=Clock(T0))
    anna, bert = hub.listen("anna"), hub.listen("bert")
    assert presence.beat() == ["anna", "bert"]
    assert rows(sessions) == [("anna", "node-a"), ("bert", "node-a")]
    hub.unlisten("bert", bert)
    assert presence.beat() == ["anna"]
    assert rows(sessions) == [("anna", "node-a")]
    presence.leave()
    assert rows(sessions) == []
    hub.unlisten("anna", anna)


async def test_another_coordinators_fresh_heartbeat_counts_a_stale_one_does_not(
        sessions: sessionmaker[Session]) -> None:
    hub_a, hub_b = RecordingHub(), RecordingHub()
    queue = hub_a.listen("anna")
    Presence(sessions, hub_a, "node-a").beat(T0)
    b = Presence(sessions, hub_b, "node-b")
    with sessions() as session:
        assert b.present(session, "anna", T0 + STALE)
        assert not b.present(session, "anna", T0 + STALE + timedelta(seconds=1))
        assert not b.present(session, "bert", T0)
    hub_a.unlisten("anna", queue)


@pytest.mark.parametrize(("b_checks_after", "released"), [(timedelta(seconds=30), False),
                                                         (STALE + timedelta(seconds=1), True)])
async def test_an_appointment_stays_with_an_owner_whose_panel_is_open_on_another_coordinator(
        sessions: sessionmaker[Session], b_checks_after: timedelta, released: bool) -> None:
    debtor = add_debtor(sessions)
    cb = add_callback(sessions, debtor, "appointment", T0 - timedelta(hours=1), status="claimed")
    hub_a, hub_b = RecordingHub(), RecordingHub()
    panel = hub_a.listen("anna")  # Anna's panel is connected to coordinator A only
    sched_a = scheduler_for(sessions, hub_a, Clock(T0), AsyncIOScheduler(), node="node-a")
    await sched_a.start()  # A beats once at T0, then (as if killed) never again
    assert hub_a.kinds() == []
    sched_b = scheduler_for(sessions, hub_b, Clock(T0 + b_checks_after), AsyncIOScheduler(), node="node-b")
    await sched_b.start()  # B checks the overdue appointment: a fresh heartbeat from A keeps it Anna's
    assert hub_b.kinds() == ([("callback_released", "*", cb)] if released else [])
    with sessions() as session:
        assert session.get(Callback, cb).agent == (None if released else "anna")  # type: ignore[union-attr]
    hub_a.unlisten("anna", panel)
    await sched_b.stop()
    await sched_a.stop()


async def test_a_stopped_coordinator_takes_its_panels_with_it(sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions)
    cb = add_callback(sessions, debtor, "appointment", T0 - timedelta(hours=1), status="claimed")
    hub_a, hub_b = RecordingHub(), RecordingHub()
    panel = hub_a.listen("anna")
    sched_a = scheduler_for(sessions, hub_a, Clock(T0), AsyncIOScheduler(), node="node-a")
    await sched_a.start()
    await sched_a.stop()  # a clean stop removes its heartbeats at once
    hub_a.unlisten("anna", panel)
    sched_b = scheduler_for(sessions, hub_b, Clock(T0 + timedelta(seconds=1)), AsyncIOScheduler(), node="node-b")
    await sched_b.start()
    assert hub_b.kinds() == [("callback_released", "*", cb)]
    await sched_b.stop()
