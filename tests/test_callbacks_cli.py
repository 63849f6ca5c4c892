"""`belblok callback|promise|payment` as scripts use them, and their effect on `belblok queue`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dialer.accounts.models import User
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement
from dialer.dossiers.ledger import Invoice, Payment
from dialer.dossiers.parties import Contact, Debtor, Phone
from dialer.storage.database import make_engine, session_factory, upgrade
from tests.conftest import run_cli, stop_process
from tests.teamconfig import team_toml

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def write_config(tmp_path: Path, db_url: str, extra: str = "") -> Path:
    path = tmp_path / "belblok.toml"
    path.write_text(team_toml(db_url, extra=extra))
    return path


class Team:
    """A configured database with one debtor (D-1, an overdue invoice F-1) and the CLI to work on it."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.dir, self.url = tmp_path, db_url
        self.config = write_config(tmp_path, db_url)
        self.engine = make_engine(db_url)
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        with self.sessions.begin() as session:
            debtor = Debtor(ref="D-1", name="Bakkerij Jansen B.V.", created_at=T0, updated_at=T0)
            debtor.contacts = [Contact(name="Piet Jansen", role="owner",
                                       phones=[Phone(number="+31612345678", kind="direct")])]
            session.add(debtor)
            session.flush()
            session.add(Invoice(debtor_id=debtor.id, number="F-1", date=date(2025, 12, 1), due_date=date(2026, 1, 1),
                                amount=Decimal("500.00"), open_amount=Decimal("500.00")))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("--config", str(self.config), *args, cwd=self.dir)

    def json(self, *args: str) -> Any:
        proc = self.cli(*args)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def count(self, model: Any) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def queue(self, at: str, agent: str = "anna") -> dict[str, Any]:
        return self.json("queue", "--agent", agent, "--at", at, "--json")

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def team(tmp_path: Path, db_url: str) -> Any:
    made = Team(tmp_path, db_url)
    yield made
    made.close()


def assert_bad_input(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("belblok: error: ") and "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- callback ---------------------------------------------------------------------------------------


def test_callback_add_prints_the_new_call_back(team: Team) -> None:
    data = team.json("callback", "add", "D-1", "--at", "2030-01-07T16:30", "--agent", "anna",
                     "--note", "belt terug, vraag naar Piet")
    assert {"id", "debtor", "due", "agent", "status", "note"} <= data.keys()
    assert (data["debtor"], data["due"], data["agent"], data["status"], data["note"], data["kind"]) == (
        "D-1", "2030-01-07T16:30:00+01:00", "anna", "pending", "belt terug, vraag naar Piet", "appointment")
    assert "requested" not in data and "moved_reason" not in data
    with team.sessions() as session:
        row = session.get(Callback, data["id"])
        assert row is not None and row.due_at == datetime(2030, 1, 7, 15, 30, tzinfo=UTC)


def test_a_time_with_an_offset_is_taken_as_is(team: Team) -> None:
    data = team.json("callback", "add", "D-1", "--at", "2030-01-07T16:30:00+00:00")
    assert data["due_utc"] == "2030-01-07T16:30:00+00:00"
    assert data["due"] == "2030-01-07T17:30:00+01:00"
    assert data["agent"] is None


def test_a_time_outside_the_debtors_calling_window_is_moved_and_says_so(team: Team) -> None:
    data = team.json("callback", "add", "D-1", "--at", "2030-01-05T10:00", "--agent", "anna")  # a Saturday
    assert data["due"] == "2030-01-07T08:00:00+01:00"
    assert data["requested"] == "2030-01-05T10:00:00+01:00"
    assert "calling window" in data["moved_reason"] and "nl-b2b" in data["moved_reason"]
    evening = team.json("callback", "add", "D-1", "--at", "2030-01-07T19:00")  # outside a block too: honoured
    assert evening["due"] == "2030-01-08T08:00:00+01:00"
    lunch = team.json("callback", "add", "D-1", "--at", "2030-01-07T12:15")  # between blocks, in the window
    assert lunch["due"] == "2030-01-07T12:15:00+01:00" and "requested" not in lunch


def test_callback_list_shows_open_call_backs_by_due_time(team: Team) -> None:
    late = team.json("callback", "add", "D-1", "--at", "2030-01-08T10:00", "--agent", "anna", "--note", "twee")
    early = team.json("callback", "add", "D-1", "--at", "2030-01-07T10:00", "--note", "een")
    rows = team.json("callback", "list", "--json")
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == [early["id"], late["id"]]
    for row in rows:
        assert {"id", "debtor", "due", "agent", "status", "note"} <= row.keys()
    assert team.json("callback", "list", "--json", "--agent", "anna") == [late]
    plain = team.cli("callback", "list")
    assert plain.returncode == 0
    lines = plain.stdout.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == str(early["id"]) and "D-1" in lines[0] and "een" in lines[0]
    done = team.json("callback", "done", str(early["id"]), "--by", "anna")
    assert done["status"] == "done"
    assert [r["id"] for r in team.json("callback", "list", "--json")] == [late["id"]]
    assert len(team.json("callback", "list", "--json", "--all")) == 2


def test_a_return_call_request_is_due_today(team: Team) -> None:
    data = team.json("callback", "request", "D-1", "--note", "belde tijdens de lunch")
    today = datetime.now(UTC).astimezone().date()
    due = datetime.fromisoformat(data["due"])
    assert data["kind"] == "return" and abs((due - datetime.now(UTC)).total_seconds()) < 60
    assert due.date() in (today, today + timedelta(days=1), today - timedelta(days=1))  # the team's today
    assert datetime.fromisoformat(data["deadline"]) > due


BAD_INPUT = [
    (("callback", "add", "D-404", "--at", "2030-01-07T16:30"), "D-404"),
    (("callback", "add", "D-1", "--at", "2020-01-07T16:30"), "in the past"),
    (("callback", "add", "D-1", "--at", "half vijf"), "half vijf"),
    (("callback", "add", "D-1", "--at", "2030-01-07"), "time of day"),
    (("callback", "request", "D-404"), "D-404"),
    (("promise", "add", "D-404", "--amount", "100", "--due", "2030-01-04"), "D-404"),
    (("promise", "add", "D-1", "--amount", "twaalf", "--due", "2030-01-04"), "twaalf"),
    (("promise", "add", "D-1", "--amount", "-5", "--due", "2030-01-04"), "-5"),
    (("promise", "add", "D-1", "--amount", "100", "--due", "30-02-2030"), "30-02-2030"),
    (("promise", "add", "D-1", "--amount", "100", "--due", "2020-01-04"), "in the past"),
    (("promise", "add", "D-1", "--amount", "100", "--due", "2030-01-04", "--invoice", "F-404"), "F-404"),
    (("payment", "add", "D-404", "--amount", "100", "--date", "2030-01-04"), "D-404"),
    (("payment", "add", "D-1", "--amount", "1,2,3", "--date", "2030-01-04"), "1,2,3"),
    (("payment", "add", "D-1", "--amount", "100", "--date", "gisteren"), "gisteren"),
    (("payment", "add", "D-1", "--amount", "100", "--date", "2030-01-04", "--invoice", "F-404"), "F-404"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_INPUT, ids=[" ".join(a[:2]) + f" {i}"
                                                               for i, (a, _) in enumerate(BAD_INPUT)])
def test_bad_input_exits_1_with_one_line_and_writes_nothing(tmp_path: Path, args: tuple[str, ...],
                                                           fragment: str) -> None:
    made = Team(tmp_path, f"sqlite:///{tmp_path / 'belblok.db'}")
    try:
        assert_bad_input(made.cli(*args), fragment)
        assert (made.count(Callback), made.count(Agreement), made.count(Payment)) == (0, 0, 0)
    finally:
        made.close()


def test_bad_input_writes_nothing_on_postgresql_either(team: Team) -> None:
    assert_bad_input(team.cli("promise", "add", "D-1", "--amount", "100", "--due", "2030-01-04",
                              "--invoice", "F-404"), "F-404")
    assert_bad_input(team.cli("callback", "add", "D-1", "--at", "2020-01-07T16:30"), "in the past")
    assert (team.count(Callback), team.count(Agreement), team.count(Payment)) == (0, 0, 0)


def test_an_unknown_agent_is_refused_once_users_exist(team: Team) -> None:
    assert team.json("callback", "add", "D-1", "--at", "2030-01-07T16:30", "--agent", "wie-dan-ook")["id"]
    with team.sessions.begin() as session:
        session.add(User(name="anna", role="agent", password_hash="-", created_at=T0))
    assert_bad_input(team.cli("callback", "add", "D-1", "--at", "2030-01-07T16:30", "--agent", "ghost"), "ghost")
    assert_bad_input(team.cli("callback", "request", "D-1", "--agent", "ghost"), "ghost")
    assert team.json("callback", "add", "D-1", "--at", "2030-01-07T16:30", "--agent", "anna")["agent"] == "anna"
    assert team.count(Callback) == 2


# -- promise and payment ------------------------------------------------------------------------------


def test_promise_add_books_its_follow_up_and_payment_add_keeps_it(team: Team) -> None:
    promise = team.json("promise", "add", "D-1", "--amount", "1.234,50", "--due", "04-01-2030", "--invoice", "F-1")
    assert (promise["debtor"], promise["amount"], promise["due"], promise["invoice"], promise["status"]) == (
        "D-1", "1234.50", "2030-01-04", "F-1", "open")
    assert promise["follow_up"]["kind"] == "follow_up"
    assert promise["follow_up"]["due"] == "2030-01-07T00:00:00+01:00"  # Monday after Friday's due date
    paid = team.json("payment", "add", "D-1", "--amount", "1234.5", "--date", "2030-01-04", "--invoice", "F-1")
    assert (paid["amount"], paid["date"], paid["invoice"]) == ("1234.50", "2030-01-04", "F-1")
    assert paid["promises"] == [{"id": promise["id"], "status": "kept", "changed": True}]
    assert team.json("callback", "list", "--json") == []
    with team.sessions() as session:
        assert session.scalars(select(Invoice.open_amount)).one() == Decimal("0.00")


def test_the_queue_shows_the_follow_up_of_an_unpaid_promise_on_the_first_business_day(team: Team) -> None:
    team.json("promise", "add", "D-1", "--amount", "100", "--due", "2030-01-04")
    friday = team.queue("2030-01-04T10:00")
    assert [e["kind"] for e in friday["entries"]] == []  # a promise running: nobody calls
    monday = team.queue("2030-01-07T10:00")
    assert [(e["debtor"], e["kind"]) for e in monday["entries"]] == [("D-1", "follow_up")]
    team.json("payment", "add", "D-1", "--amount", "100,00", "--date", "2030-01-03")
    after = team.queue("2030-01-07T10:00")
    assert "follow_up" not in [e["kind"] for e in after["entries"]]


def test_the_queue_puts_an_appointment_first_for_its_owner(team: Team) -> None:
    data = team.json("callback", "add", "D-1", "--at", "2030-01-07T16:30", "--agent", "anna")
    queue = team.queue("2030-01-07T16:31")
    assert [(e["debtor"], e["kind"], e["callback_id"]) for e in queue["entries"]][:1] == [
        ("D-1", "callback", data["id"])]


def test_promise_sweep_and_decide_from_the_command_line(team: Team) -> None:
    first = team.json("promise", "add", "D-1", "--amount", "100", "--due", "2030-01-04")
    swept = team.json("promise", "sweep", "--today", "2030-01-05")
    assert [p["id"] for p in swept["changed"]] == [first["id"]] and swept["changed"][0]["status"] == "broken"
    assert team.json("promise", "sweep", "--today", "2030-01-05")["changed"] == []
    second = team.json("promise", "add", "D-1", "--amount", "50", "--due", "2030-01-11")
    team.json("promise", "sweep", "--today", "2030-01-12")
    with team.sessions() as session:
        from dialer.dossiers.tasks import Task

        task = session.scalars(select(Task).where(Task.kind == "escalation")).one()
        assert task.agreement_id == second["id"]
    decided = team.json("promise", "decide", str(task.id), "--decision", "written_reminder", "--by", "sanne")
    assert (decided["decision"], decided["decided_by"]) == ("written_reminder", "sanne")
    assert_bad_input(team.cli("promise", "decide", str(task.id), "--decision", "written_reminder", "--by", "x"),
                     "already decided")
    listed = team.cli("promise", "list", "--all")
    assert [json.loads(line)["status"] for line in listed.stdout.splitlines()] == ["broken", "broken"]


# -- end to end: belblok serve pushes a due call-back over the WebSocket ---------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_call_back_due_in_a_few_seconds_reaches_the_agents_panel_in_time(tmp_path: Path) -> None:
    import aiohttp

    made = Team(tmp_path, f"sqlite:///{tmp_path / 'belblok.db'}")
    port = _free_port()
    token_proc = made.cli("token", "create", "anna", "--role", "agent")
    assert token_proc.returncode == 0, token_proc.stderr
    token = token_proc.stdout.strip().splitlines()[-1]
    with made.sessions.begin() as session:  # a pack that allows a call at any hour: the test runs at any hour
        debtor = session.scalars(select(Debtor)).one()
        pack = tmp_path / "always.toml"
        pack.write_text('name = "always"\n[window]\ndays = ["mon","tue","wed","thu","fri","sat","sun"]\n'
                        'start = "00:00"\nend = "23:59"\n')
        debtor.policy, debtor.timezone = str(pack), _zone_at_noon()
    serve = subprocess.Popen([str(Path(sys.executable).with_name("belblok")), "--config", str(made.config), "serve",
                              "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ})
    try:
        assert serve.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(serve.stdout.readline), 60)
        assert "ready" in ready, ready
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"http://127.0.0.1:{port}/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "hello"
            due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
            added = await asyncio.to_thread(made.json, "callback", "add", "D-1", "--at", due.isoformat(),
                                            "--agent", "anna")
            while True:
                message = await ws.receive_json(timeout=15)
                if message.get("kind") == "callback_due":
                    break
            arrived = datetime.now(UTC)
        assert message["detail"]["callback_id"] == added["id"]
        assert due <= arrived <= due + timedelta(seconds=2)
    finally:
        stop_process(serve)
        made.close()


def _zone_at_noon() -> str:
    """An Etc/GMT zone where it is about noon now (POSIX signs: Etc/GMT-5 is UTC+5)."""
    offset = max(-12, min(14, 12 - datetime.now(UTC).hour))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def test_zone_at_noon_is_a_real_zone() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(_zone_at_noon())
    assert 6 <= datetime.now(zone).hour <= 18
    assert re.fullmatch(r"Etc/GMT([+-]\d+)?", zone.key)
