"""Claims: atomic, expiring, and with 20 agents at once no dossier is ever called by two of them."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.journal import CallLog
from dialer.queue.claimmodel import DossierClaim
from dialer.queue.claims import claim, claim_first, live_claims, release, release_all
from dialer.storage.database import make_engine, session_factory, upgrade
from tests.test_queue_fixtures import T0, add_debtor


def debtors(engine: Engine, count: int) -> list[int]:
    with Session(engine) as session, session.begin():
        return [add_debtor(session, f"D{n:03}", phones=[("P", "owner", f"+316120{n:05}", "direct")]).id
                for n in range(count)]


def test_a_claim_holds_until_released_or_expired(engine: Engine) -> None:
    a, b = debtors(engine, 2)
    assert claim(engine, a, "anna", now=T0, minutes=15)
    assert not claim(engine, a, "bert", now=T0 + timedelta(minutes=14), minutes=15)
    assert claim(engine, a, "anna", now=T0 + timedelta(minutes=14), minutes=15)  # her own: extended
    assert not claim(engine, a, "bert", now=T0 + timedelta(minutes=28), minutes=15)
    assert claim(engine, a, "bert", now=T0 + timedelta(minutes=29), minutes=15)  # anna's claim expired
    with engine.connect() as connection:
        held = live_claims(connection, [a, b], T0 + timedelta(minutes=30))
    assert list(held) == [a] and held[a].agent == "bert"
    assert held[a].expires_at == T0 + timedelta(minutes=44)
    assert not release(engine, a, "anna")
    assert release(engine, a, "bert")
    assert claim(engine, a, "anna", now=T0 + timedelta(minutes=31), minutes=15)


def test_claim_first_takes_the_first_free_one_in_the_order_given(engine: Engine) -> None:
    a, b, c = debtors(engine, 3)
    assert claim(engine, b, "bert", now=T0, minutes=15)
    assert claim_first(engine, "anna", [b, c, a], now=T0, minutes=15) == c
    assert claim_first(engine, "carl", [b, c], now=T0, minutes=15) is None
    assert claim_first(engine, "carl", [], now=T0, minutes=15) is None
    assert release_all(engine, "anna") == 1
    assert claim_first(engine, "carl", [b, c], now=T0, minutes=15) == c


def test_naive_times_are_refused(engine: Engine) -> None:
    (a,) = debtors(engine, 1)
    with pytest.raises(ValueError):
        claim(engine, a, "anna", now=datetime(2026, 11, 24, 9, 0), minutes=15)


def race(engine: Engine, ids: list[int], agents: int, rounds: int) -> Counter[str]:
    """`agents` threads claim the head of the same queue, "call" (write an attempt) and release, `rounds` times."""
    calllog = CallLog(session_factory(engine))
    active: dict[int, str] = {}
    guard = threading.Lock()
    overlaps: list[str] = []
    calls: Counter[str] = Counter()
    start = threading.Barrier(agents)

    def agent(name: str) -> None:
        start.wait()
        for _ in range(rounds):
            now = datetime.now(UTC)
            chosen = claim_first(engine, name, ids, now=now, minutes=15)
            if chosen is None:
                continue
            with guard:
                if chosen in active:
                    overlaps.append(f"{name} and {active[chosen]} both called dossier {chosen}")
                active[chosen] = name
            attempt = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False,
                                           at=now, agent=name, debtor_ref=str(chosen))
            calllog.mark_ended(attempt, at=datetime.now(UTC), outcome="busy", sip_code=486, sip_reason="Busy Here",
                               sip_code_source="wire")
            with guard:
                del active[chosen]
                calls[name] += 1
            assert release(engine, chosen, name)

    with ThreadPoolExecutor(agents) as pool:
        for future in [pool.submit(agent, f"agent{n:02}") for n in range(agents)]:
            future.result()
    assert overlaps == []
    return calls


@pytest.mark.postgres
def test_twenty_agents_never_call_one_dossier_at_once_on_postgresql(postgres_server: str) -> None:
    setup = make_engine(postgres_server)
    upgrade(setup)
    ids = debtors(setup, 25)  # fewer dossiers than agents would want: they collide all the time
    setup.dispose()
    engine = create_engine(postgres_server.replace("postgresql://", "postgresql+psycopg://"), pool_size=24)
    try:
        calls = race(engine, ids, agents=20, rounds=40)
        assert len(calls) == 20 and sum(calls.values()) >= 400
        with Session(engine) as session:
            assert session.scalars(select(DossierClaim).where(DossierClaim.agent.is_not(None))).all() == []
    finally:
        engine.dispose()


def test_agents_never_call_one_dossier_at_once_on_sqlite(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    try:
        upgrade(engine)
        calls = race(engine, debtors(engine, 6), agents=8, rounds=15)
        assert sum(calls.values()) >= 30
    finally:
        engine.dispose()
