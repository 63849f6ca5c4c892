"""Dialling a dossier now: decided again at that moment, refusals logged and published, caller ID on the wire."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.attempt import Attempt
from dialer.calllog.journal import CallLog
from dialer.calls.desk import Switchboard
from dialer.dossiers.parties import Debtor, Phone
from dialer.live.events import EventHub
from dialer.queue.claimmodel import DossierClaim
from dialer.queue.claims import claim, live_claims
from dialer.sessions.dialing import DialRefused, DossierDialer
from dialer.storage.database import session_factory
from softphone.sipp import SippPeer
from tests.conftest import CALLER_ID, run_cli
from tests.test_queue_fixtures import (
    T0,
    add_callback,
    add_debtor,
    attempt_count,
    make_config,
    safe_zone,
)

NUMBER = "+31612345678"


def dialer_for(engine: Engine, tmp_path: Path, *, clock=lambda: T0, **options: object) -> DossierDialer:
    cfg, _ = make_config(tmp_path, **options)  # type: ignore[arg-type]
    hub = EventHub()
    return DossierDialer(cfg, engine, Switchboard(cfg, CallLog(session_factory(engine)), hub), hub, clock=clock)


def set_flag(engine: Engine, ref: str, **values: object) -> None:
    with Session(engine) as session, session.begin():
        debtor = session.scalar(select(Debtor).where(Debtor.ref == ref))
        for key, value in values.items():
            setattr(debtor, key, value)


async def test_the_decision_is_made_again_at_the_moment_of_dialling(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        add_debtor(session, "D-1")
    dialer = dialer_for(engine, tmp_path)
    assert (await asyncio.to_thread(dialer.query.queue, "anna", T0)).head.debtor == "D-1"
    set_flag(engine, "D-1", do_not_call=True)  # after the queue was built, before the dial
    listener = dialer.hub.listen("anna")
    with pytest.raises(DialRefused) as refused:
        await dialer.dial("D-1", "anna")
    assert refused.value.rules == ("do_not_call",)
    event = listener.get_nowait()
    assert (event.kind, event.debtor_ref, event.detail["rules"]) == ("refused", "D-1", ["do_not_call"])
    assert attempt_count(engine) == 0
    with engine.connect() as connection:
        assert live_claims(connection, [1], T0) == {}  # the claim taken to decide was given back


async def test_outside_a_block_only_appointments_are_dialled(engine: Engine, tmp_path: Path) -> None:
    noon = T0 + timedelta(hours=2)  # 12:00 in Amsterdam: between the blocks
    with Session(engine) as session, session.begin():
        add_debtor(session, "D-1")
        add_callback(session, add_debtor(session, "D-2", phones=[("Bo", "owner", "+31612345679", "direct")]),
                     "appointment", noon - timedelta(minutes=1), agent="anna")
    dialer = dialer_for(engine, tmp_path, clock=lambda: noon,
                        blocks='[[blocks]]\ndays = ["tue"]\nstart = "09:30"\nend = "11:00"\n'
                               '[[blocks]]\ndays = ["tue"]\nstart = "14:00"\nend = "15:00"\n')
    with pytest.raises(DialRefused) as refused:
        await asyncio.to_thread(dialer.check, "D-1", "anna", noon)
    assert refused.value.rules == ("outside_block",)
    assert refused.value.next_allowed == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    entry = await asyncio.to_thread(dialer.check, "D-2", "anna", noon)
    assert entry.kind == "callback"


async def test_a_dossier_another_agent_holds_is_refused(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        debtor_id = add_debtor(session, "D-1").id
    assert claim(engine, debtor_id, "bert", now=T0, minutes=15)
    dialer = dialer_for(engine, tmp_path)
    with pytest.raises(DialRefused) as refused:
        await dialer.dial("D-1", "anna")
    assert refused.value.rules == ("claimed",) and refused.value.next_allowed == T0 + timedelta(minutes=15)
    assert str(refused.value) == "refused: claimed (next allowed 2026-11-24T09:15:00+00:00)"


def test_dial_refused_exits_3_with_the_rules_and_dials_nothing(engine: Engine, db_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    closed_day = (now + timedelta(days=3)).date()  # a window open only on a day three days from now
    pack = tmp_path / "closed.toml"
    pack.write_text(f'name = "closed"\n[window]\ndays = ["{closed_day.strftime("%a").lower()}"]\n'
                    'start = "00:00"\nend = "23:59"\nholidays = ""\n[frequency]\nmax_calls = 1\nper_days = 7\n')
    with Session(engine) as session, session.begin():
        debtor = add_debtor(session, "D-1", timezone="UTC", today=now.date())
        session.add(Attempt(number=NUMBER, debtor_ref="D-1", caller_id=CALLER_ID, state="ended", outcome="answered",
                            created_at=now - timedelta(days=6), answered_at=now - timedelta(days=6),
                            ended_at=now - timedelta(days=6)))  # the cap lets go before the window opens
        add_debtor(session, "D-2", do_not_call=True, phones=[("Bo", "owner", "+31612345679", "direct")])
        assert debtor.id
    with SippPeer("answer") as peer:
        _, path = make_config(tmp_path, db_url=db_url, trunk=peer.uri, always=True, team_zone=safe_zone(now),
                              extra="")
        path.write_text(path.read_text().replace(f'policy = "{tmp_path / "always.toml"}"', f'policy = "{pack}"'))
        proc = run_cli("--config", str(path), "dial", "D-1", "--agent", "anna", cwd=tmp_path)
        flagged = run_cli("--config", str(path), "dial", "D-2", cwd=tmp_path)
        unknown = run_cli("--config", str(path), "dial", "NOPE", cwd=tmp_path)
        invites = peer.received("INVITE")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    opens = datetime.combine(closed_day, datetime.min.time(), tzinfo=UTC)
    assert lines[0] == f"belblok: refused: calling_window, frequency_cap (next allowed {opens.isoformat()})"
    assert (flagged.returncode, flagged.stderr.strip()) == (3, "belblok: refused: do_not_call, calling_window")
    assert unknown.returncode == 1 and "NOPE" in unknown.stderr
    assert invites == []
    assert attempt_count(engine) == 1  # only the one made six days ago


def test_dial_prints_the_attempt_linked_to_debtor_and_contact(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        add_debtor(session, "D-1", today=datetime.now(UTC).date(),
                   phones=[("Bea", "bookkeeper", "+31201112222", "switchboard"),
                           ("Carla", "credit_manager", "+31201113333", "switchboard"),
                           ("Carla", "credit_manager", NUMBER, "direct")])
    with SippPeer("answer") as peer:
        _, path = make_config(tmp_path, db_url=db_url, trunk=peer.uri, always=True, team_zone=safe_zone())
        proc = run_cli("--config", str(path), "dial", "D-1", "--agent", "anna", "--hangup-after", "0.5",
                       cwd=tmp_path)
        invite = peer.wait_for(lambda m: m.method == "INVITE", timeout=5)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["debtor_ref"], out["contact_ref"], out["agent"], out["number"]) == ("D-1", "Carla", "anna", NUMBER)
    assert (out["outcome"], out["caller_id_withheld"]) == ("answered", False)
    assert invite.first_line.startswith(f"INVITE sip:{NUMBER}@")
    with engine.connect() as connection:
        assert live_claims(connection, [1], datetime.now(UTC)) == {}  # released after the call


async def test_withheld_after_two_no_answers_and_shown_again_after_a_433(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session, session.begin():
        add_debtor(session, "D-1", today=datetime.now(UTC).date())
    retry = "[retry.no_answer]\ndelay_minutes = 0\nmax_per_day = 5\n"
    zone = safe_zone()
    calls = []
    with SippPeer("ring") as ringing:
        dialer = dialer_for(engine, tmp_path, trunk=ringing.uri, always=True, team_zone=zone, extra=retry,
                            clock=lambda: datetime.now(UTC))
        try:
            for _ in range(3):
                call = await dialer.dial("D-1", "anna", ring_timeout_s=1.0)
                calls.append(await asyncio.wait_for(call.done, 30))
        finally:
            await dialer.switchboard.close()
        rung = [m for m in ringing.received("INVITE")]
    assert [c["outcome"] for c in calls] == ["no_answer"] * 3
    assert [c["caller_id_withheld"] for c in calls] == [False, False, True]
    assert [m.header("Privacy") for m in rung] == [None, None, "id"]
    assert CALLER_ID in rung[0].header("From") and CALLER_ID in rung[1].header("From")
    assert rung[2].header("From").startswith('"Anonymous" <sip:anonymous@anonymous.invalid>')

    with SippPeer("anonymous_reject") as refusing:
        dialer = dialer_for(engine, tmp_path, trunk=refusing.uri, always=True, team_zone=zone, extra=retry,
                            clock=lambda: datetime.now(UTC))
        try:
            rejected = await asyncio.wait_for((await dialer.dial("D-1", "anna")).done, 30)
            with Session(engine) as session:
                assert session.scalar(select(Phone.refuses_anonymous).where(Phone.number == NUMBER)) is True
            shown = await asyncio.wait_for((await dialer.dial("D-1", "anna", hangup_after_s=0.5)).done, 30)
        finally:
            await dialer.switchboard.close()
        invites = refusing.received("INVITE")
    assert (rejected["outcome"], rejected["sip_code"], rejected["caller_id_withheld"]) == \
        ("anonymity_rejected", 433, True)
    assert (shown["outcome"], shown["caller_id_withheld"]) == ("answered", False)
    assert invites[1].header("Privacy") is None and CALLER_ID in invites[1].header("From")
    assert {(c["debtor_ref"], c["contact_ref"]) for c in [*calls, rejected, shown]} == {("D-1", "Piet")}
    with Session(engine) as session:  # noted for the queue's retry tier
        noted = session.scalar(select(DossierClaim).where(DossierClaim.debtor_id == 1))
        assert (noted.last_outcome, noted.agent) == ("answered", None)
