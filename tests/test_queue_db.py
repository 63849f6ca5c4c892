"""The queue read from SQLite and PostgreSQL at the moment it is asked, and `belblok queue --json`."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.dossiers.dossier import UnknownDebtor
from dialer.dossiers.ledger import Invoice
from dialer.dossiers.parties import Debtor
from dialer.dossiers.stats import DossierStats, refresh_stats
from dialer.queue.claims import claim
from dialer.queue.order import Entry, Exclusion
from dialer.queue.query import QueueQuery
from tests.conftest import run_cli
from tests.test_queue_fixtures import (
    T0,
    add_attempt,
    add_callback,
    add_complaint,
    add_debtor,
    add_promise,
    make_config,
)

EXPECTED_ENTRIES = [("CB-ANNA", "callback"), ("RET", "return"), ("FUP", "follow_up"), ("FUP-CB", "follow_up"),
                    ("RETRY", "retry"), ("NEW-LATE", "new"), ("NEW-BIG", "new"), ("NEW-SMALL", "new")]
EXPECTED_EXCLUDED = {"DNC": ["do_not_call"], "WRITTEN": ["written_only"], "INSOLVENT": ["insolvent"],
                     "SMALL": ["min_amount"], "DISPUTE": ["dispute_open"], "PROMISED": ["promise_running"],
                     "NY": ["calling_window"], "CLAIMED": ["claimed"], "MUTE": ["no_number"],
                     "WAITING": ["retry_delay"]}


def populate(engine: Engine) -> None:
    """One dossier per kind and per exclusion rule."""
    with Session(engine) as s, s.begin():
        add_callback(s, add_debtor(s, "CB-ANNA", phones=[("Ann", "owner", "+31612000001", "direct")]),
                     "appointment", T0 - timedelta(minutes=5), agent="anna")
        add_callback(s, add_debtor(s, "RET", phones=[("Rob", "bookkeeper", "+31612000002", "direct")]),
                     "return", T0 - timedelta(minutes=60))
        add_callback(s, add_debtor(s, "FUP-CB", phones=[("Fay", "owner", "+31612000003", "direct")]),
                     "follow_up", T0 - timedelta(hours=2))
        add_promise(s, add_debtor(s, "FUP", phones=[("Fred", "owner", "+31612000004", "direct")]),
                    T0.date() - timedelta(days=1))
        add_attempt(s, add_debtor(s, "RETRY", phones=[("Rita", "owner", "+31612000005", "direct")]),
                    T0 - timedelta(hours=3), "no_answer")
        late = add_debtor(s, "NEW-LATE", amount="60.00", days_overdue=5,
                          phones=[("Lia", "owner", "+31612000006", "direct")])
        s.add(Invoice(debtor_id=late.id, number="NEW-LATE-2", date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                      amount=Decimal("10.00"), open_amount=Decimal("10.00")))
        add_debtor(s, "NEW-BIG", amount="9000.00", days_overdue=40, phones=[("Bo", "owner", "+31612000007", "direct")])
        add_debtor(s, "NEW-SMALL", amount="100.00", days_overdue=10,
                   phones=[("Sam", "owner", "+31612000008", "direct")])
        add_debtor(s, "DNC", do_not_call=True, phones=[("D", "owner", "+31612000009", "direct")])
        add_debtor(s, "WRITTEN", written_only=True, phones=[("W", "owner", "+31612000010", "direct")])
        add_debtor(s, "INSOLVENT", insolvent=True, phones=[("I", "owner", "+31612000011", "direct")])
        add_debtor(s, "SMALL", amount="10.00", phones=[("S", "owner", "+31612000012", "direct")])
        add_complaint(s, add_debtor(s, "DISPUTE", phones=[("C", "owner", "+31612000013", "direct")]))
        add_promise(s, add_debtor(s, "PROMISED", phones=[("P", "owner", "+31612000014", "direct")]),
                    T0.date() + timedelta(days=3))
        add_debtor(s, "NY", country="US", region="NY", timezone="America/New_York",
                   phones=[("Nia", "owner", "+12125550123", "direct")])
        add_debtor(s, "CLAIMED", phones=[("K", "owner", "+31612000015", "direct")])
        add_debtor(s, "MUTE", phones=[])
        add_attempt(s, add_debtor(s, "WAITING", phones=[("V", "owner", "+31612000016", "direct")]),
                    T0 - timedelta(minutes=30), "no_answer")
        add_debtor(s, "PAID", amount=None, phones=[("X", "owner", "+31612000017", "direct")])
        add_debtor(s, "NOT-DUE", days_overdue=-10, phones=[("Y", "owner", "+31612000018", "direct")])
        done = add_debtor(s, "DONE-CB", amount=None, phones=[("Z", "owner", "+31612000019", "direct")])
        add_callback(s, done, "appointment", T0 - timedelta(minutes=5), agent="anna", status="done")
    with Session(engine) as s:
        assert s.scalar(select(DossierStats.debtor_id)) is None  # nothing materialised: the dossiers are read
        claimed = s.scalar(select(Debtor.id).where(Debtor.ref == "CLAIMED"))
    assert claim(engine, claimed, "bert", now=T0, minutes=15)


def check(data: dict) -> None:
    assert [(e["debtor"], e["kind"]) for e in data["entries"]] == EXPECTED_ENTRIES
    assert {x["debtor"]: x["rules"] for x in data["excluded"]} == EXPECTED_EXCLUDED
    claimed = next(x for x in data["excluded"] if x["debtor"] == "CLAIMED")
    assert claimed["next_allowed"] == "2026-11-24T09:15:00+00:00"
    new_york = next(x for x in data["excluded"] if x["debtor"] == "NY")
    assert new_york["next_allowed"] == "2026-11-24T13:00:00+00:00"  # 08:00 in New York (us-regf)
    assert next(x for x in data["excluded"] if x["debtor"] == "DNC")["next_allowed"] is None


def test_queue_from_the_database_live_and_from_the_statistics(engine: Engine, tmp_path: Path) -> None:
    cfg, _ = make_config(tmp_path)
    populate(engine)
    live = QueueQuery(cfg, engine).queue("anna", T0)
    data = live.to_json()
    check(data)
    assert data["block"]["start"] == "2026-11-24T08:30:00+00:00"
    assert data["entries"][0] == {
        "debtor": "CB-ANNA", "contact": "Ann", "number": "+31612000001", "kind": "callback",
        "due": "2026-11-24T08:55:00+00:00", "withhold_caller_id": False,
        "reason": "appointment call-back due 2026-11-24 09:55 (anna)", "name": "Debtor CB-ANNA", "role": "owner",
        "callback_id": data["entries"][0]["callback_id"]}
    with engine.begin() as connection:
        assert refresh_stats(connection, T0.date(), T0) == 21
    stats = QueueQuery(cfg, engine, mode="stats").queue("anna", T0)
    assert stats.to_json() == data
    for limit in range(1, len(live.entries) + 1):  # weighing stops early, never at the cost of the order
        assert QueueQuery(cfg, engine, mode="stats").queue("anna", T0, limit=limit).entries == live.entries[:limit]
        assert QueueQuery(cfg, engine, mode="live").queue("anna", T0, limit=limit).entries == live.entries[:limit]


def test_the_queue_is_as_it_was_at_the_moment_asked(engine: Engine, tmp_path: Path) -> None:
    cfg, _ = make_config(tmp_path)
    populate(engine)
    query = QueueQuery(cfg, engine)
    earlier = query.queue("anna", T0 - timedelta(hours=4))  # 06:00: before the RETRY call and the return call
    assert earlier.block is None and earlier.entries == ()  # nl-b2b opens at 08:00
    held = {x.debtor: x for x in earlier.excluded}
    assert (held["RETRY"].kind, held["RETRY"].rules) == ("new", ("calling_window",))
    assert held["RET"].rules == ("callback_scheduled", "calling_window")
    assert held["NEW-BIG"].next_allowed == T0 - timedelta(hours=2)
    bert = query.queue("bert", T0)
    assert "CB-ANNA" in {x.debtor for x in bert.excluded}  # anna's appointment, still in her grace
    assert "CLAIMED" in {e.debtor for e in bert.entries}  # bert's own claim


def test_one_dossier_and_an_unknown_one(engine: Engine, tmp_path: Path) -> None:
    cfg, _ = make_config(tmp_path)
    populate(engine)
    query = QueueQuery(cfg, engine)
    facts, verdict = query.dossier("NEW-BIG", "anna", T0)
    assert isinstance(verdict, Entry) and facts.ref == "NEW-BIG" and verdict.kind == "new"
    _, refused = query.dossier("DNC", "anna", T0)
    assert isinstance(refused, Exclusion) and refused.rules == ("do_not_call",)
    with pytest.raises(UnknownDebtor):
        query.dossier("NOPE", "anna", T0)


def test_queue_json_on_the_command_line(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, path = make_config(tmp_path, db_url=db_url)
    populate(engine)
    proc = run_cli("--config", str(path), "queue", "--agent", "anna", "--at", "2026-11-24T10:00:00+01:00", "--json",
                   cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"at", "agent", "block", "entries", "excluded"}
    assert (data["at"], data["agent"]) == ("2026-11-24T09:00:00+00:00", "anna")
    assert data["block"]["start"] == "2026-11-24T08:30:00+00:00" and data["block"]["end"] == "2026-11-24T10:00:00+00:00"
    check(data)
    for e in data["entries"]:
        assert set(e) >= {"debtor", "contact", "number", "kind", "due", "withhold_caller_id", "reason"}
        assert e["kind"] in ("callback", "return", "follow_up", "retry", "new")
        assert e["number"].startswith("+")
    for x in data["excluded"]:
        assert set(x) >= {"debtor", "rules", "next_allowed"}
    saturday = run_cli("--config", str(path), "queue", "--agent", "anna", "--at", "2026-11-28T10:00:00", "--json",
                       cwd=tmp_path)
    assert saturday.returncode == 0, saturday.stderr
    assert json.loads(saturday.stdout)["block"] is None
    table = run_cli("--config", str(path), "queue", "--agent", "anna", "--at", "2026-11-24T10:00", cwd=tmp_path)
    assert table.returncode == 0 and "CB-ANNA" in table.stdout and "do_not_call" in table.stdout
    bad = run_cli("--config", str(path), "queue", "--agent", "anna", "--at", "tomorrow", cwd=tmp_path)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_tiers_read_page_by_page_keep_the_order(engine: Engine, tmp_path: Path) -> None:
    cfg, _ = make_config(tmp_path)
    populate(engine)
    with Session(engine) as s, s.begin():  # more of every tier, with outcomes whose delays differ
        for n, (outcome, minutes) in enumerate([("busy", 20), ("network_error", 7), ("unavailable", 70),
                                                ("no_answer", 125), ("busy", 300), ("cancelled", 130)]):
            debtor = add_debtor(s, f"R{n}", amount=f"{100 + n}.00",
                                phones=[("R", "owner", f"+3161300000{n}", "direct")])
            add_attempt(s, debtor, T0 - timedelta(minutes=minutes), outcome)
        for n in range(4):
            add_promise(s, add_debtor(s, f"P{n}", amount=f"{300 + 10 * n}.00",
                                      phones=[("P", "owner", f"+3161400000{n}", "direct")]),
                        T0.date() - timedelta(days=1 + n % 2))
        for n in range(5):
            add_debtor(s, f"N{n}", amount=f"{200 + 10 * n}.00", phones=[("N", "owner", f"+3161500000{n}", "direct")])
    with engine.begin() as connection:
        refresh_stats(connection, T0.date(), T0)
    full = QueueQuery(cfg, engine, mode="live").queue("anna", T0)
    kinds = [e.kind for e in full.entries]
    assert kinds == sorted(kinds, key=("callback", "return", "follow_up", "retry", "new").index)
    assert kinds.count("retry") == 7 and kinds.count("follow_up") == 6
    for mode in ("stats", "live"):
        for limit in range(1, len(full.entries) + 1):
            got = QueueQuery(cfg, engine, mode=mode, page=2).queue("anna", T0, limit=limit).entries
            assert [e.debtor for e in got] == [e.debtor for e in full.entries[:limit]], (mode, limit)



def test_an_invoice_under_two_complaints_counts_once(engine: Engine, tmp_path: Path) -> None:
    cfg, _ = make_config(tmp_path)
    with Session(engine) as s, s.begin():
        debtor = add_debtor(s, "TWICE", amount="800.00")
        add_complaint(s, debtor)
        add_complaint(s, debtor)
        s.add(Invoice(debtor_id=debtor.id, number="TWICE-2", date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                      amount=Decimal("300.00"), open_amount=Decimal("300.00")))
    facts, verdict = QueueQuery(cfg, engine).dossier("TWICE", "anna", T0)
    assert sorted((str(i.open_amount), i.disputed) for i in facts.invoices) == [("300.00", False), ("800.00", True)]
    assert isinstance(verdict, Entry) and verdict.reason.startswith("first call: 300.00 overdue")


def test_a_running_promise_with_its_follow_up_planned_lists_every_rule(engine: Engine, db_url: str,
                                                                       tmp_path: Path) -> None:
    from dialer.scheduling.promises import add_promise as promise

    cfg, path = make_config(tmp_path, db_url=db_url)
    with Session(engine) as s, s.begin():  # as `belblok promise add` makes it: the follow-up call planned too
        debtor = add_debtor(s, "PROMISED", phones=[("P", "owner", "+31612000014", "direct")])
        _, follow = promise(s, debtor, Decimal("100.00"), T0.date() + timedelta(days=3), cfg=cfg, now=T0)
        assert follow is not None and follow.kind == "follow_up"
    proc = run_cli("--config", str(path), "queue", "--agent", "anna", "--at", T0.isoformat(), "--json",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (excluded,) = [x for x in json.loads(proc.stdout)["excluded"] if x["debtor"] == "PROMISED"]
    assert excluded["rules"] == ["promise_running", "callback_scheduled"]
