"""Agent states: chosen by the agent, moved by real call and session events, stored as intervals, shared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.live.events import EventHub, LiveEvent
from dialer.live.floor import Floor, StateInterval
from dialer.live.states import AgentState, StateRefused, after_event, chosen
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, bearer, web_config

CODES = frozenset({"break", "lunch"})
T0 = datetime(2026, 3, 24, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def state(name: str, code: str | None = None) -> AgentState:
    return AgentState("anna", name, T0, code)


def test_a_pause_needs_a_known_code_and_only_a_pause_has_one() -> None:
    assert chosen(state("ready"), "paused", "break", CODES) == "break"
    with pytest.raises(StateRefused, match="needs a pause code"):
        chosen(state("ready"), "paused", None, CODES)
    with pytest.raises(StateRefused, match="unknown pause code 'nap'"):
        chosen(state("ready"), "paused", "nap", CODES)
    with pytest.raises(StateRefused, match="belongs to a pause"):
        chosen(state("paused", "break"), "ready", "break", CODES)
    with pytest.raises(StateRefused, match="follows the call"):
        chosen(state("ready"), "talking", None, CODES)
    with pytest.raises(StateRefused, match="on a call"):
        chosen(state("talking"), "ready", None, CODES)


def test_call_events_move_the_agent_and_an_unanswered_call_leaves_no_wrap_up() -> None:
    assert after_event(state("ready"), "dialing", {}) == "dialing"
    assert after_event(state("dialing"), "ringing", {}) == "ringing"
    assert after_event(state("ringing"), "answered", {}) == "talking"
    assert after_event(state("talking"), "ended", {}) == "wrap_up"
    assert after_event(state("ringing"), "ended", {}) == "ready"
    assert after_event(state("wrap_up"), "wrapped_up", {}) == "ready"
    assert after_event(state("paused", "break"), "wrapped_up", {}) is None
    assert after_event(state("ready"), "recording", {}) is None
    assert after_event(None, "session", {"event": "started"}) == "ready"
    assert after_event(state("paused", "break"), "session", {"event": "resumed"}) == "ready"


def intervals(sessions: sessionmaker[Session]) -> list[tuple[str, str | None, datetime, datetime | None]]:
    with sessions() as session:
        return [(r.state, r.code, r.started_at, r.ended_at)
                for r in session.scalars(select(StateInterval).order_by(StateInterval.id))]


async def test_each_change_closes_the_last_interval_and_opens_the_next(sessions: sessionmaker[Session]) -> None:
    hub, clock = EventHub(), Clock(T0)
    floor = Floor(sessions, hub, CODES, clock=clock)
    seen = hub.listen("*")
    await floor.choose("anna", "ready")
    clock.at = T0 + timedelta(minutes=5)
    await floor.choose("anna", "paused", "break")
    steps = [("dialing", 10), ("ringing", 11), ("answered", 12), ("ended", 20), ("wrapped_up", 22)]
    for kind, minute in steps:
        hub.publish(LiveEvent(agent="anna", kind=kind, at=T0 + timedelta(minutes=minute), attempt_id=7,
                              debtor_ref="D-1" if kind == "dialing" else None))
    await floor.settled()
    got = intervals(sessions)
    assert [(s, c) for s, c, _, _ in got] == [("ready", None), ("paused", "break"), ("dialing", None),
                                              ("ringing", None), ("talking", None), ("wrap_up", None),
                                              ("ready", None)]
    starts = [T0 + timedelta(minutes=m) for m in (0, 5, 10, 11, 12, 20, 22)]
    assert [s for _, _, s, _ in got] == starts
    assert [e for _, _, _, e in got] == starts[1:] + [None]  # contiguous; the last one open
    now = floor.now("anna")
    assert now is not None and (now.state, now.debtor_ref, now.attempt_id) == ("ready", None, None)
    kinds = []
    while not seen.empty():
        event = seen.get_nowait()
        if event.kind == "agent_state":
            kinds.append(event.detail["state"])
    assert kinds == ["ready", "paused", "dialing", "ringing", "talking", "wrap_up", "ready"]
    await floor.close()


async def test_while_talking_the_debtor_stays_on_the_state(sessions: sessionmaker[Session]) -> None:
    hub = EventHub()
    floor = Floor(sessions, hub, CODES, clock=Clock(T0))
    hub.publish(LiveEvent(agent="anna", kind="dialing", at=T0, attempt_id=3, debtor_ref="D-9"))
    hub.publish(LiveEvent(agent="anna", kind="answered", at=T0 + timedelta(seconds=9), attempt_id=3))
    await floor.settled()
    now = floor.now("anna")
    assert now is not None and (now.state, now.debtor_ref, now.attempt_id) == ("talking", "D-9", 3)
    with pytest.raises(StateRefused, match="on a call"):
        await floor.choose("anna", "paused", "break")
    await floor.close()


async def test_an_unknown_pause_code_changes_nothing(sessions: sessionmaker[Session]) -> None:
    floor = Floor(sessions, EventHub(), CODES, clock=Clock(T0))
    await floor.choose("anna", "ready")
    before = intervals(sessions)
    with pytest.raises(StateRefused):
        await floor.choose("anna", "paused", "nap")
    assert intervals(sessions) == before
    await floor.close()


async def test_two_coordinators_share_one_floor(sessions: sessionmaker[Session]) -> None:
    a = Floor(sessions, EventHub(), CODES, clock=Clock(T0))
    b = Floor(sessions, EventHub(), CODES, clock=Clock(T0 + timedelta(seconds=1)))
    await a.choose("anna", "ready")
    await b.choose("bert", "paused", "lunch")
    assert [(s.agent, s.state, s.code) for s in a.board()] == [("anna", "ready", None), ("bert", "paused", "lunch")]
    assert [s.agent for s in b.board()] == ["anna", "bert"]
    await a.close()
    await b.close()


async def test_the_agent_pauses_with_a_code_over_the_api(db_url: str, engine: Engine, tmp_path: Path,
                                                          make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    add_account(engine, "chef", "supervisor")
    client = await make_client(web_config(db_url, tmp_path))
    anna, chef = bearer(engine, "anna"), bearer(engine, "chef")
    answer = await client.post("/api/v1/agent/state", json={"state": "paused", "code": "lunch"}, headers=anna)
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["state"] == "paused"
    unknown = await client.post("/api/v1/agent/state", json={"state": "paused", "code": "nap"}, headers=anna)
    assert unknown.status == 400
    assert "unknown pause code 'nap'" in (await unknown.json())["error"]
    own = await (await client.get("/api/v1/agent/state", headers=anna)).json()
    assert (own["state"], own["code"]) == ("paused", "lunch")
    assert {c["code"] for c in own["pause_codes"]} >= {"break", "lunch"}
    assert (await client.get("/api/v1/floor", headers=anna)).status == 403
    board = await (await client.get("/api/v1/floor", headers=chef)).json()
    assert [(a["agent"], a["state"], a["code"]) for a in board["agents"]] == [("anna", "paused", "lunch")]
    for body in ([1], {"state": 3}, {"state": "talking"}):
        assert (await client.post("/api/v1/agent/state", json=body, headers=anna)).status == 400
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(StateInterval)) == 1
