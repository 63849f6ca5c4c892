"""The call-back scheduler on a controllable clock: reminders, due, release, escalation, crash and two coordinators."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.accounts.models import User
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.parties import Contact, Debtor, Phone
from dialer.dossiers.tasks import Task
from dialer.live.events import EventHub, LiveEvent
from dialer.mail.mailer import Mailer, read_outbox
from dialer.scheduling.rules import (
    CallbackState,
    Step,
    WhenError,
    parse_when,
    return_deadline,
    steps_for,
)
from dialer.scheduling.scheduler import CallbackScheduler
from dialer.settings.config import Config, parse
from dialer.storage.database import make_engine, session_factory
from tests.teamconfig import WEEKDAY_BLOCKS

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Amsterdam


def make_cfg(db_url: str = "sqlite://", *, remind: int = 5, grace: int = 10, blocks: bool = True,
             extra: str = "") -> Config:
    """A test configuration: Amsterdam team, blocks 09:30–11:00 and 14:00–15:00 on weekdays."""
    block_text = WEEKDAY_BLOCKS if blocks else ""
    return parse(f"""
[database]
url = "{db_url}"
[sip]
trunk = "127.0.0.1:5060"
caller_id = "+31201234567"
[team]
country = "NL"
timezone = "Europe/Amsterdam"
[callbacks]
remind_minutes = {remind}
grace_minutes = {grace}
{block_text}
{extra}
""")


def add_debtor(sessions: sessionmaker[Session], ref: str = "D-1", *, number: str = "+31612345678",
               name: str = "Bakkerij Jansen B.V.", kind: str = "company", policy: str | None = None) -> int:
    """A debtor with one contact and one direct number; returns its id."""
    with sessions.begin() as session:
        debtor = Debtor(ref=ref, name=name, kind=kind, country="NL", policy=policy, created_at=T0, updated_at=T0)
        debtor.contacts = [Contact(name="Piet Jansen", role="owner", phones=[Phone(number=number, kind="direct")])]
        session.add(debtor)
        session.flush()
        return debtor.id


def add_callback(sessions: sessionmaker[Session], debtor_id: int, kind: str, due: datetime, *,
                 agent: str | None = "anna", status: str = "pending", note: str | None = None) -> int:
    """A call-back row written straight to the database (as another process would)."""
    with sessions.begin() as session:
        row = Callback(debtor_id=debtor_id, kind=kind, due_at=due, agent=agent, status=status, note=note,
                       created_at=T0 - timedelta(hours=1))
        session.add(row)
        session.flush()
        return row.id


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingHub(EventHub):
    """An EventHub that also remembers everything published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[LiveEvent] = []

    def publish(self, event: LiveEvent) -> None:
        self.published.append(event)
        super().publish(event)

    def kinds(self) -> list[tuple[str, str, int]]:
        return [(e.kind, e.agent, e.detail["callback_id"]) for e in self.published]


@pytest.fixture
def idle_aps() -> AsyncIOScheduler:
    """An APScheduler that is never started: jobs are recorded, never run (the test drives the clock)."""
    return AsyncIOScheduler(timezone=UTC)


def scheduler_for(sessions: sessionmaker[Session], hub: EventHub, clock: Clock, aps: AsyncIOScheduler,
                  cfg: Config | None = None, node: str = "node-a", **options: Any) -> CallbackScheduler:
    options.setdefault("reconnect_s", 0)
    return CallbackScheduler(sessions, hub, cfg or make_cfg(), clock=clock, scheduler=aps, node=node,
                             mailer=None, **options)


# -- pure step rules ----------------------------------------------------------------------------


def test_an_appointment_has_a_reminder_a_due_moment_and_a_release() -> None:
    row = CallbackState(7, "appointment", "pending", T0, "anna", reminded=False)
    steps = steps_for(row, remind=timedelta(minutes=5), grace=timedelta(minutes=10))
    assert steps == [Step(T0 - timedelta(minutes=5), 7, "remind"), Step(T0, 7, "due"),
                     Step(T0 + timedelta(minutes=10), 7, "release")]
    claimed = CallbackState(7, "appointment", "claimed", T0, "anna", reminded=True)
    assert [s.action for s in steps_for(claimed, remind=timedelta(minutes=5), grace=timedelta(10))] == ["release"]
    anyone = CallbackState(7, "appointment", "pending", T0, None, reminded=False)
    assert [s.action for s in steps_for(anyone, remind=timedelta(minutes=5), grace=timedelta(10))] == ["due"]
    done = CallbackState(7, "appointment", "done", T0, "anna", reminded=True)
    assert steps_for(done, remind=timedelta(minutes=5), grace=timedelta(minutes=10)) == []


def test_a_return_call_is_due_now_and_escalates_when_the_last_block_ends() -> None:
    cfg = make_cfg()
    deadline = return_deadline(T0, cfg.blocks, "Europe/Amsterdam", "NL")
    assert deadline == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 15:00 in Amsterdam
    row = CallbackState(3, "return", "pending", T0, None, reminded=False)
    assert steps_for(row, remind=timedelta(minutes=5), grace=timedelta(minutes=10), deadline=deadline) == [
        Step(T0, 3, "due"), Step(deadline, 3, "escalate")]


def test_a_return_call_after_the_last_block_is_due_by_the_next_business_days_last_block() -> None:
    cfg = make_cfg()
    friday_evening = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    assert return_deadline(friday_evening, cfg.blocks, "Europe/Amsterdam", "NL") == \
        datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # Monday 15:00
    before_kingsday = datetime(2026, 4, 26, 12, 0, tzinfo=UTC)  # Sunday; Monday 27 April is King's Day
    assert return_deadline(before_kingsday, cfg.blocks, "Europe/Amsterdam", "NL") == \
        datetime(2026, 4, 28, 13, 0, tzinfo=UTC)  # Tuesday 15:00 CEST
    no_blocks = make_cfg(blocks=False)
    assert return_deadline(T0, no_blocks.blocks, "Europe/Amsterdam", "NL") == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-02T16:30", datetime(2026, 3, 2, 15, 30, tzinfo=UTC)),  # the team's local time
    ("2026-03-02 16:30", datetime(2026, 3, 2, 15, 30, tzinfo=UTC)),
    ("2026-07-02T16:30", datetime(2026, 7, 2, 14, 30, tzinfo=UTC)),  # summer time
    ("2026-03-02T16:30:00+00:00", datetime(2026, 3, 2, 16, 30, tzinfo=UTC)),  # an offset is taken as is
    ("2026-03-02T16:30Z", datetime(2026, 3, 2, 16, 30, tzinfo=UTC)),
    ("16:30", datetime(2026, 3, 2, 15, 30, tzinfo=UTC)),  # today
])
def test_when_is_iso_8601_in_the_teams_zone_unless_it_has_an_offset(text: str, expected: datetime) -> None:
    assert parse_when(text, "Europe/Amsterdam", T0) == expected


@pytest.mark.parametrize("text", ["bogus", "2026-03-02", "02-03-2026", "25:00", "2026-03-29T02:30", ""])
def test_a_when_without_a_time_or_in_the_dst_gap_is_refused(text: str) -> None:
    with pytest.raises(WhenError):
        parse_when(text, "Europe/Amsterdam", T0)


# -- one scheduler on a controllable clock ------------------------------------------------------


async def test_an_appointment_is_reminded_announced_and_released_when_its_owner_is_away(
        sessions: sessionmaker[Session], idle_aps: AsyncIOScheduler) -> None:
    debtor = add_debtor(sessions)
    cb = add_callback(sessions, debtor, "appointment", T0 + timedelta(minutes=30), note="belt terug om half 11")
    hub, clock = RecordingHub(), Clock(T0)
    sched = scheduler_for(sessions, hub, clock, idle_aps)
    await sched.start()
    assert hub.published == []
    assert sched.armed_at == T0 + timedelta(minutes=25)  # the reminder

    clock.now = T0 + timedelta(minutes=25)
    await sched.fire()
    assert hub.kinds() == [("reminder", "anna", cb)]
    assert hub.published[0].debtor_ref == "D-1"
    assert hub.published[0].detail["note"] == "belt terug om half 11"
    assert sched.armed_at == T0 + timedelta(minutes=30)

    clock.now = T0 + timedelta(minutes=30)
    await sched.fire()
    assert hub.kinds()[1:] == [("callback_due", "anna", cb)]
    with sessions() as session:
        row = session.get(Callback, cb)
        assert row is not None
        assert (row.status, row.claimed_by, row.claimed_at, row.agent) == ("claimed", "node-a", clock.now, "anna")
    assert sched.armed_at == T0 + timedelta(minutes=40)

    clock.now = T0 + timedelta(minutes=40)
    await sched.fire()
    assert hub.kinds()[2:] == [("callback_released", "*", cb)]
    assert hub.published[2].detail["owner"] == "anna"
    with sessions() as session:
        assert session.get(Callback, cb).agent is None  # type: ignore[union-attr]
    await sched.fire()  # nothing happens twice
    assert len(hub.published) == 3
    assert sched.armed_at is None
    await sched.stop()


async def test_an_appointment_stays_with_an_owner_whose_panel_is_open(
        sessions: sessionmaker[Session], idle_aps: AsyncIOScheduler) -> None:
    debtor = add_debtor(sessions)
    cb = add_callback(sessions, debtor, "appointment", T0)
    hub, clock = RecordingHub(), Clock(T0 + timedelta(minutes=11))
    panel = hub.subscribe("anna")
    waiting = asyncio.ensure_future(anext(panel))
    await asyncio.sleep(0)
    assert hub.subscribers("anna") == 1
    sched = scheduler_for(sessions, hub, clock, idle_aps)
    await sched.start()  # due and grace both passed while no scheduler ran: announced, not released
    assert hub.kinds() == [("callback_due", "anna", cb)]
    assert (await asyncio.wait_for(waiting, 5)).kind == "callback_due"
    with sessions() as session:
        assert session.get(Callback, cb).agent == "anna"  # type: ignore[union-attr]
    await panel.aclose()
    await sched.stop()


async def test_after_a_start_panels_get_time_to_reconnect_before_a_release(
        sessions: sessionmaker[Session], idle_aps: AsyncIOScheduler) -> None:
    debtor = add_debtor(sessions)
    cb = add_callback(sessions, debtor, "appointment", T0 - timedelta(hours=1), status="claimed")
    hub, clock = RecordingHub(), Clock(T0)
    sched = scheduler_for(sessions, hub, clock, idle_aps, reconnect_s=30)
    await sched.start()
    assert hub.published == []
    assert sched.armed_at == T0 + timedelta(seconds=30)
    clock.now = T0 + timedelta(seconds=30)
    await sched.fire()
    assert hub.kinds() == [("callback_released", "*", cb)]
    await sched.stop()


async def test_a_return_call_is_announced_then_escalated_to_the_supervisors(
        sessions: sessionmaker[Session], idle_aps: AsyncIOScheduler, tmp_path: Path) -> None:
    debtor = add_debtor(sessions)
    with sessions.begin() as session:
        session.add(User(name="sanne", role="supervisor", password_hash="-", email="sanne@example.test",
                         created_at=T0))
    cb = add_callback(sessions, debtor, "return", T0, agent=None, note="inkomend gesprek")
    hub, clock = RecordingHub(), Clock(T0)
    outbox = tmp_path / "outbox"
    cfg = make_cfg()
    sched = CallbackScheduler(sessions, hub, cfg, clock=clock, scheduler=idle_aps, node="node-a",
                              mailer=Mailer(cfg.smtp, outbox), reconnect_s=0)
    await sched.start()
    assert hub.kinds() == [("callback_due", "*", cb)]
    deadline = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert sched.armed_at == deadline

    clock.now = deadline
    fired = await sched.fire()
    assert fired.escalated == [cb]
    assert hub.kinds()[1:] == [("return_call_overdue", "*", cb)]
    await sched.stop()  # waits for the e-mail
    with sessions() as session:
        assert session.get(Callback, cb).status == "escalated"  # type: ignore[union-attr]
        task = session.scalars(select(Task)).one()
    assert (task.kind, task.role, task.debtor_id, task.status) == ("return_call_overdue", "supervisor", debtor, "open")
    assert hub.published[1].detail["task_id"] == task.id
    mails = read_outbox(outbox)
    assert [m.to for m in mails] == ["sanne@example.test"]
    assert "D-1" in mails[0].subject


async def test_a_done_return_call_is_not_escalated(sessions: sessionmaker[Session],
                                                   idle_aps: AsyncIOScheduler) -> None:
    debtor = add_debtor(sessions)
    add_callback(sessions, debtor, "return", T0, status="done")
    hub, clock = RecordingHub(), Clock(T0 + timedelta(hours=8))
    sched = scheduler_for(sessions, hub, clock, idle_aps)
    await sched.start()
    assert hub.published == [] and sched.armed_at is None
    with sessions() as session:
        assert session.scalar(select(func.count(Task.id))) == 0
    await sched.stop()


# -- crash and rebuild --------------------------------------------------------------------------


async def test_a_scheduler_rebuilt_after_a_crash_has_the_same_timers_and_fires_nothing_twice(
        sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions)
    other = add_debtor(sessions, "D-2", number="+31687654321")
    ids = [add_callback(sessions, debtor, "appointment", T0 + timedelta(minutes=m)) for m in (0, 20, 45)]
    ids.append(add_callback(sessions, other, "return", T0 - timedelta(minutes=5), agent=None))
    ids.append(add_callback(sessions, other, "follow_up", T0 + timedelta(days=1), agent="bram"))
    hub, clock = RecordingHub(), Clock(T0)

    a = scheduler_for(sessions, hub, clock, AsyncIOScheduler(timezone=UTC), node="a")
    await a.start()
    assert sorted(hub.kinds()) == [("callback_due", "*", ids[3]), ("callback_due", "anna", ids[0])]
    clock.now = T0 + timedelta(minutes=15)
    await a.fire()
    assert sorted(hub.kinds()[2:]) == [("callback_released", "*", ids[0]), ("reminder", "anna", ids[1])]
    timers_before = a.agenda()
    armed_before = a.armed_at
    # The crash: A's timers are gone, nothing was cleaned up, nothing was written on the way out.
    del a

    b = scheduler_for(sessions, hub, clock, AsyncIOScheduler(timezone=UTC), node="b")
    await b.start()
    assert b.agenda() == timers_before
    assert b.armed_at == armed_before == T0 + timedelta(minutes=20)
    assert len(hub.published) == 4  # nothing fired again

    for minutes in (20, 25, 40, 45, 55, 60 * 6, 60 * 25):
        clock.now = T0 + timedelta(minutes=minutes)
        await b.fire()
    seen = [(kind, cb) for kind, _, cb in hub.kinds()]
    assert len(seen) == len(set(seen)), seen  # every step once
    assert sorted(seen) == sorted([
        ("callback_due", ids[0]), ("callback_due", ids[3]), ("reminder", ids[1]), ("callback_due", ids[1]),
        ("callback_released", ids[0]), ("callback_released", ids[1]), ("reminder", ids[2]),
        ("callback_due", ids[2]), ("callback_released", ids[2]), ("return_call_overdue", ids[3]),
        ("callback_due", ids[4])])
    with sessions() as session:
        claimers = dict(session.execute(select(Callback.id, Callback.claimed_by)).all())
    assert claimers[ids[0]] == claimers[ids[3]] == "a" and claimers[ids[1]] == claimers[ids[4]] == "b"
    await b.stop()


CRASHING = textwrap.dedent("""
    import asyncio, sys
    from dialer.settings.config import parse
    from dialer.storage.database import make_engine, session_factory
    from dialer.live.events import EventHub
    from dialer.scheduling.scheduler import CallbackScheduler
    from tests.test_scheduler import make_cfg

    async def main():
        cfg = make_cfg(sys.argv[1])
        sched = CallbackScheduler(session_factory(make_engine(cfg.database.url)), EventHub(), cfg,
                                  node="doomed", mailer=None, rescan_s=0.2, reconnect_s=0)
        await sched.start()
        print("started", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
""")


async def test_after_kill_9_a_new_coordinator_loses_nothing_and_repeats_nothing(db_url: str, engine: Engine) -> None:
    sessions = session_factory(engine)
    debtor = add_debtor(sessions)
    now = datetime.now(UTC)
    first = [add_callback(sessions, debtor, "appointment", now - timedelta(seconds=1)) for _ in range(5)]
    later = [add_callback(sessions, debtor, "appointment", now + timedelta(hours=1)) for _ in range(5)]
    proc = subprocess.Popen([sys.executable, "-c", CRASHING, db_url], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while _claimed_by(sessions, "doomed") < len(first):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the first coordinator never claimed its call-backs"
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    hub = RecordingHub()
    clock = Clock(now + timedelta(hours=1))  # a restart an hour later: the later ones are due too
    b = scheduler_for(sessions, hub, clock, AsyncIOScheduler(timezone=UTC), node="phoenix")
    await b.start()
    assert sorted(e.detail["callback_id"] for e in hub.published if e.kind == "callback_due") == later
    with sessions() as session:
        owners = dict(session.execute(select(Callback.id, Callback.claimed_by)).all())
    assert {owners[i] for i in first} == {"doomed"} and {owners[i] for i in later} == {"phoenix"}
    await b.stop()


def _claimed_by(sessions: sessionmaker[Session], node: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count(Callback.id)).where(Callback.claimed_by == node)) or 0)


# -- two coordinators on one database -------------------------------------------------------------


async def test_two_coordinators_firing_the_same_items_act_on_each_exactly_once(db_url: str, engine: Engine) -> None:
    sessions = session_factory(engine)
    debtor = add_debtor(sessions)
    ids = [add_callback(sessions, debtor, "appointment", T0 + timedelta(seconds=i % 7)) for i in range(300)]
    ids += [add_callback(sessions, debtor, "return", T0 - timedelta(hours=6), agent=None) for _ in range(20)]
    second = make_engine(db_url)  # another process would have its own connection pool
    try:
        clock = Clock(T0 + timedelta(minutes=1))
        a = scheduler_for(sessions, RecordingHub(), clock, AsyncIOScheduler(timezone=UTC), node="a", batch=10)
        b = scheduler_for(session_factory(second), RecordingHub(), clock, AsyncIOScheduler(timezone=UTC),
                          node="b", batch=10)
        a.next_wake(clock.now), b.next_wake(clock.now)  # both connected before the race
        barrier = threading.Barrier(2)

        def race(sched: CallbackScheduler, now: datetime) -> list[LiveEvent]:
            barrier.wait(10)  # both coordinators' timers go off for the same moment together
            return sched.process(now).events

        due_a, due_b = await asyncio.gather(asyncio.to_thread(race, a, clock.now),
                                            asyncio.to_thread(race, b, clock.now))
        announced = [e.detail["callback_id"] for e in due_a + due_b if e.kind == "callback_due"]
        assert sorted(announced) == sorted(ids)  # every one announced, none twice
        with sessions() as session:
            claimers = dict(session.execute(select(Callback.id, Callback.claimed_by)).all())
        assert [claimers[e.detail["callback_id"]] for e in due_a] == ["a"] * len(due_a)
        assert [claimers[e.detail["callback_id"]] for e in due_b] == ["b"] * len(due_b)

        evening = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
        late_a, late_b = await asyncio.gather(asyncio.to_thread(race, a, evening), asyncio.to_thread(race, b, evening))
        escalated = [e.detail["callback_id"] for e in late_a + late_b if e.kind == "return_call_overdue"]
        assert sorted(escalated) == ids[300:]
        with sessions() as session:
            assert session.scalar(select(func.count(Task.id))) == 20
    finally:
        second.dispose()


# -- the real timers ---------------------------------------------------------------------------


async def test_the_timer_fires_a_call_back_added_after_start_on_time(sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions)
    hub = RecordingHub()
    sched = CallbackScheduler(sessions, hub, make_cfg(remind=0), node="live", mailer=None, rescan_s=3600,
                              reconnect_s=0)
    panel = hub.subscribe("anna")
    try:
        await sched.start()
        assert sched.armed_at is None
        due = datetime.now(UTC) + timedelta(seconds=0.3)
        cb = add_callback(sessions, debtor, "appointment", due)
        sched.schedule(cb, due)  # what the API, the CLI service and the wrap-up do
        event = await asyncio.wait_for(anext(panel), 10)
        assert (event.kind, event.detail["callback_id"]) == ("callback_due", cb)
        assert datetime.now(UTC) >= due
    finally:
        await panel.aclose()
        await sched.stop()


async def test_a_row_written_by_another_process_is_found_by_the_rescan(sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions)
    hub = RecordingHub()
    sched = CallbackScheduler(sessions, hub, make_cfg(), node="live", mailer=None, rescan_s=0.2, reconnect_s=0)
    panel = hub.subscribe("*")
    try:
        await sched.start()
        cb = add_callback(sessions, debtor, "return", datetime.now(UTC), agent=None)  # nobody calls schedule()
        event = await asyncio.wait_for(anext(panel), 10)
        assert (event.kind, event.detail["callback_id"]) == ("callback_due", cb)
    finally:
        await panel.aclose()
        await sched.stop()


async def test_schedule_from_another_thread_rearms_the_timer(sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions)
    hub = RecordingHub()
    sched = CallbackScheduler(sessions, hub, make_cfg(remind=0), node="live", mailer=None, rescan_s=3600,
                              reconnect_s=0)
    panel = hub.subscribe("anna")
    try:
        await sched.start()
        due = datetime.now(UTC) + timedelta(seconds=0.2)

        def from_a_view_thread() -> None:
            cb = add_callback(sessions, debtor, "appointment", due)
            sched.schedule(cb, due)

        await asyncio.to_thread(from_a_view_thread)
        event = await asyncio.wait_for(anext(panel), 10)
        assert event.kind == "callback_due"
    finally:
        await panel.aclose()
        await sched.stop()


def test_next_wake_reads_times_back_as_utc(sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions)
    add_callback(sessions, debtor, "follow_up", datetime(2026, 3, 3, 23, 0, tzinfo=UTC), agent=None)
    sched = CallbackScheduler(sessions, EventHub(), make_cfg(), node="x", mailer=None)
    wake = sched.next_wake(T0)
    assert wake == datetime(2026, 3, 3, 23, 0, tzinfo=UTC) and wake.tzinfo is not None
    assert date(2026, 3, 4) == wake.astimezone(sched.zone).date()


# -- the service the panel and the CLI use ------------------------------------------------------------


def test_the_service_adds_moves_claims_and_settles_call_backs(sessions: sessionmaker[Session]) -> None:
    from dialer.scheduling.callbackservice import CallbackError, CallbackService

    add_debtor(sessions)
    handed: list[tuple[int, datetime]] = []
    service = CallbackService(sessions, make_cfg(), clock=Clock(T0), on_scheduled=lambda i, d: handed.append((i, d)))
    monday_4pm = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    data = service.add_appointment("D-1", monday_4pm, agent="anna", note="na de lunch")
    assert handed == [(data["id"], monday_4pm)]
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    moved = service.move(data["id"], saturday, by="anna")
    assert moved["due_utc"] == "2026-03-09T07:00:00+00:00"  # Monday 08:00 in Amsterdam: the window opens
    assert moved["requested"] == "2026-03-07T11:00:00+01:00" and "calling window" in moved["moved_reason"]
    assert handed[-1] == (data["id"], datetime(2026, 3, 9, 7, 0, tzinfo=UTC))
    assert not service.claim(data["id"], by="bram")  # anna's appointment
    assert service.claim(data["id"], by="anna")
    assert service.get(data["id"])["status"] == "claimed"
    assert service.complete(data["id"], by="anna")["status"] == "done"
    with pytest.raises(CallbackError, match="already done"):
        service.cancel(data["id"])
    with pytest.raises(CallbackError, match="in the past"):
        service.add_appointment("D-1", T0 - timedelta(minutes=1))
    with pytest.raises(CallbackError, match="no debtor"):
        service.add_return("D-404")
    back = service.add_return("D-1", note="belde terug")
    assert back["kind"] == "return" and back["due_utc"] == T0.isoformat()
    assert back["deadline"] == "2026-03-02T15:00:00+01:00"
    assert [r["id"] for r in service.list()] == [back["id"]]
    assert [r["id"] for r in service.list(statuses=None)] == [back["id"], data["id"]]


async def test_the_deadline_of_a_return_call_follows_the_blocks_in_force(sessions: sessionmaker[Session],
                                                                         idle_aps: AsyncIOScheduler) -> None:
    from dialer.blocks.model import add_one_off

    debtor = add_debtor(sessions)
    cfg = make_cfg()
    with sessions.begin() as session:  # a supervisor adds an evening block today
        add_one_off(session, date(2026, 3, 2), "19:00", "20:30", by="sanne", now=T0, note="extra belblok")
    cb = add_callback(sessions, debtor, "return", T0, agent=None)
    hub, clock = RecordingHub(), Clock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 15:00: the weekly blocks are over
    sched = scheduler_for(sessions, hub, clock, idle_aps, cfg=cfg)
    await sched.start()
    assert [kind for kind, _, _ in hub.kinds()] == ["callback_due"]
    assert sched.armed_at == datetime(2026, 3, 2, 19, 30, tzinfo=UTC)  # 20:30 in Amsterdam
    clock.now = sched.armed_at
    await sched.fire()
    assert hub.kinds()[-1] == ("return_call_overdue", "*", cb)
    await sched.stop()
