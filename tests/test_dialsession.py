"""Dialling sessions: blocks, preview and power mode on an injected timer, pause, resume, end — and one real call."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.journal import CallLog
from dialer.calls.desk import CallTarget, Switchboard
from dialer.dossiers.parties import Debtor
from dialer.live.events import EventHub
from dialer.live.floor import Floor, StateInterval
from dialer.queue.claims import live_claims
from dialer.sessions.dialing import DialRefused, DossierDialer
from dialer.sessions.dialsession import (
    DialSession,
    DialSessions,
    ManualTimer,
    SessionRefused,
)
from dialer.storage.database import session_factory
from softphone.sipp import SippPeer
from tests.test_queue_fixtures import (
    T0,
    add_callback,
    add_debtor,
    make_config,
    safe_zone,
)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeDesk:
    """A desk without SIP: each dial writes its attempt; the test ends the call."""

    def __init__(self, agent: str, calllog: CallLog, clock: Clock) -> None:
        self.agent, self.calllog, self.clock = agent, calllog, clock
        self.started = self.closed = False
        self.dialled: list[CallTarget] = []
        self._ended = asyncio.Event()
        self._ended.set()
        self.current: int | None = None

    async def _ensure_started(self) -> None:
        self.started = True

    async def dial(self, target: CallTarget, *, ring_timeout_s=None, hangup_after_s=None) -> int:
        self.dialled.append(target)
        self.current = self.calllog.open_attempt(number=target.number, caller_id="+31201234567",
                                                 caller_id_withheld=target.withhold, at=self.clock(),
                                                 agent=self.agent, debtor_ref=target.debtor_ref,
                                                 contact_ref=target.contact_ref)
        self._ended = asyncio.Event()
        return self.current

    async def wait_ended(self) -> None:
        await self._ended.wait()

    def finish(self, outcome: str = "answered") -> None:
        assert self.current is not None
        self.calllog.mark_ended(self.current, at=self.clock(), outcome=outcome, sip_code=200, sip_reason="OK",
                                sip_code_source="wire")
        self._ended.set()

    async def close(self) -> None:
        self.closed = True


class FakeBoard(Switchboard):
    """Hands out fake desks."""

    def __init__(self, cfg, calllog: CallLog, hub: EventHub, clock: Clock) -> None:
        super().__init__(cfg, calllog, hub)
        self.clock = clock
        self.fakes: dict[str, FakeDesk] = {}

    def desk(self, agent: str, agent_line: str | None = None):  # type: ignore[override]
        return self.fakes.setdefault(agent, FakeDesk(agent, self.calllog, self.clock))


def setup(engine: Engine, tmp_path: Path, clock: Clock) -> DossierDialer:
    cfg, _ = make_config(tmp_path, extra="[queue]\npower_delay_s = 7\n")
    with Session(engine) as session, session.begin():
        add_debtor(session, "BIG", amount="9000.00", phones=[("Bo", "owner", "+31612000001", "direct")])
        add_debtor(session, "MID", amount="900.00", phones=[("Mo", "owner", "+31612000002", "direct")])
        add_debtor(session, "LOW", amount="90.00", phones=[("Lo", "owner", "+31612000003", "direct")])
    hub = EventHub()
    board = FakeBoard(cfg, CallLog(session_factory(engine)), hub, clock)
    return DossierDialer(cfg, engine, board, hub, clock=clock)


def claims_of(engine: Engine, now: datetime) -> dict[str, str]:
    with Session(engine) as session:
        refs = dict(session.execute(select(Debtor.id, Debtor.ref)).all())
    with engine.connect() as connection:
        return {refs[i]: c.agent for i, c in live_claims(connection, list(refs), now).items()}


async def test_no_session_outside_a_block_unless_an_appointment_is_due(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))  # 17:00: after the block, in nl-b2b's window
    dialer = setup(engine, tmp_path, clock)
    with pytest.raises(SessionRefused, match="outside a calling block.*next block opens 2026-11-25T08:30:00"):
        await DialSession("anna", dialer).start()
    with Session(engine) as session, session.begin():
        debtor = session.scalar(select(Debtor).where(Debtor.ref == "LOW"))
        add_callback(session, debtor, "appointment", clock.now - timedelta(minutes=1), agent="anna")
    session_ = DialSession("anna", dialer)
    state = await session_.start()
    assert (state["state"], state["entry"]["debtor"], state["entry"]["kind"]) == ("ready", "LOW", "callback")
    assert dialer.switchboard.desk("anna").started  # the agent line is up
    await session_.preview()  # the appointment is still the head; nothing else may be dialled outside a block
    assert session_.current is not None and session_.current.kind == "callback"


async def test_preview_mode_claims_the_head_and_the_agent_dials(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(T0)
    dialer = setup(engine, tmp_path, clock)
    anna, bert = DialSession("anna", dialer), DialSession("bert", dialer)
    assert (await anna.start())["entry"]["debtor"] == "BIG"
    assert (await bert.start())["entry"]["debtor"] == "MID"  # BIG is anna's
    assert claims_of(engine, T0) == {"BIG": "anna", "MID": "bert"}
    attempt_id = await anna.dial_next()
    assert anna.status == "dialing" and anna.state()["attempt_id"] == attempt_id
    desk = dialer.switchboard.desk("anna")
    assert desk.dialled[-1] == CallTarget("+31612000001", debtor_ref="BIG", contact_ref="Bo", withhold=False)
    clock.now += timedelta(minutes=1)
    desk.finish("answered")
    await anna.settled()
    assert anna.status == "wrap_up"
    assert claims_of(engine, clock.now)["BIG"] == "anna"  # kept through the wrap-up
    assert (await anna.preview()).debtor == "LOW"
    assert claims_of(engine, clock.now) == {"LOW": "anna", "MID": "bert"}
    with pytest.raises(SessionRefused):
        await bert.resume()  # not paused


async def test_power_mode_dials_when_the_timer_fires_and_pause_stops_it(engine: Engine, tmp_path: Path) -> None:
    clock, timer = Clock(T0), ManualTimer()
    dialer = setup(engine, tmp_path, clock)
    events = dialer.hub.listen("anna")
    session = DialSession("anna", dialer, mode="power", timer=timer)
    await session.start()
    assert [h.delay_s for h in timer.pending] == [7]  # [queue] power_delay_s
    assert await timer.fire() == 1
    assert session.status == "dialing"
    desk = dialer.switchboard.desk("anna")
    assert [t.debtor_ref for t in desk.dialled] == ["BIG"]
    desk.finish("no_answer")
    await session.settled()
    assert session.status == "ready" and session.current.debtor == "MID"  # previewed during the wrap-up
    assert len(timer.pending) == 1
    await session.pause()
    assert session.status == "paused" and timer.pending == []
    assert claims_of(engine, clock.now) == {}
    assert await timer.fire() == 0
    await session.resume()
    assert session.status == "ready" and len(timer.pending) == 1
    await session.end()
    assert session.status == "ended" and desk.closed and timer.pending == []
    assert claims_of(engine, clock.now) == {}
    kinds = []
    while not events.empty():
        kinds.append(events.get_nowait().kind)
    assert kinds[0] == "session" and "preview" in kinds and kinds[-1] == "session"


async def test_a_refusal_at_the_moment_of_dialling_previews_the_next(engine: Engine, tmp_path: Path) -> None:
    clock = Clock(T0)
    dialer = setup(engine, tmp_path, clock)
    events = dialer.hub.listen("anna")
    session = DialSession("anna", dialer)
    await session.start()
    with Session(engine) as s, s.begin():
        s.scalar(select(Debtor).where(Debtor.ref == "BIG")).do_not_call = True
    with pytest.raises(DialRefused) as refused:
        await session.dial_next()
    assert refused.value.rules == ("do_not_call",)
    assert session.status == "ready" and session.current.debtor == "MID"
    seen = []
    while not events.empty():
        seen.append(events.get_nowait())
    refusal = next(e for e in seen if e.kind == "refused")
    assert (refusal.debtor_ref, refusal.detail["rules"]) == ("BIG", ["do_not_call"])
    assert dialer.switchboard.desk("anna").dialled == []


async def test_the_panels_registry_of_sessions(engine: Engine, tmp_path: Path) -> None:
    dialer = setup(engine, tmp_path, Clock(T0))
    sessions = DialSessions(dialer, timer=ManualTimer())
    await sessions.start("anna", "power")
    with pytest.raises(SessionRefused, match="already has a session"):
        await sessions.start("anna")
    assert sessions.get("anna").mode == "power"
    assert [s["agent"] for s in sessions.states()] == ["anna"]
    with pytest.raises(SessionRefused, match="no dialling session"):
        sessions.get("bert")
    with pytest.raises(SessionRefused):
        DialSession("carl", dialer, mode="turbo")
    await sessions.close()
    with pytest.raises(SessionRefused):
        sessions.get("anna")


async def test_a_real_session_calls_the_agent_line_then_the_debtor(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        add_debtor(session, "D-1", today=datetime.now(UTC).date())
    with SippPeer("agent") as phone, SippPeer("answer", keys={"hangup_ms": 1000}) as trunk:
        cfg, _ = make_config(tmp_path, trunk=trunk.uri, always=True, team_zone=safe_zone(),
                             extra=f'[agent]\nline = "sip:agent@{phone.uri}"\n')
        hub = EventHub()
        board = Switchboard(cfg, CallLog(session_factory(engine)), hub)
        dialer = DossierDialer(cfg, engine, board, hub)
        floor = Floor(session_factory(engine), hub, frozenset({"break"}))
        session = DialSession("anna", dialer)
        try:
            await session.start()
            agent_invite = phone.wait_for(lambda m: m.method == "INVITE", timeout=10)
            assert session.current is not None and session.current.debtor == "D-1"
            await session.dial_next()
            attempt = await asyncio.wait_for(session.call.done, 30)
            await asyncio.wait_for(session.settled(), 10)
            assert session.status == "wrap_up"
            await floor.settled()
            # The floor followed the real call: the states the agent went through, stored as intervals.
            with Session(engine) as s:
                states = list(s.scalars(select(StateInterval.state).order_by(StateInterval.id)))
            assert states[0] == "ready" and states[-1] == "wrap_up" and "talking" in states
            assert states.index("dialing") < states.index("talking")
            assert floor.now("anna").debtor_ref == "D-1"
        finally:
            await session.end()
            await floor.close()
        debtor_invite = trunk.wait_for(lambda m: m.method == "INVITE", timeout=5)
    assert agent_invite.first_line.startswith("INVITE sip:agent@")
    assert debtor_invite.first_line.startswith("INVITE sip:+31612345678@")
    assert (attempt["outcome"], attempt["debtor_ref"], attempt["agent"]) == ("answered", "D-1", "anna")


async def test_power_mode_never_dials_an_agent_paused_on_the_floor(engine: Engine, tmp_path: Path) -> None:
    clock, timer = Clock(T0), ManualTimer()
    dialer = setup(engine, tmp_path, clock)
    floor = Floor(session_factory(engine), dialer.hub, frozenset({"break"}), clock=clock)
    sessions = DialSessions(dialer, timer=timer)
    await sessions.start("anna", "power")
    await floor.settled()
    assert floor.now("anna").state == "ready" and len(timer.pending) == 1  # the session's start: ready
    paused = await floor.choose("anna", "paused", "break")
    await sessions.follow_choice("anna", paused.state)
    assert timer.pending == [] and await timer.fire() == 0
    assert dialer.switchboard.desk("anna").dialled == []
    await sessions.follow_choice("anna", (await floor.choose("anna", "ready")).state)
    assert len(timer.pending) == 1 and await timer.fire() == 1
    assert [t.debtor_ref for t in dialer.switchboard.desk("anna").dialled] == ["BIG"]
    await sessions.close()
    await floor.close()
