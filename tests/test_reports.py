"""The reports on a data set whose figures are worked out by hand here, on SQLite and PostgreSQL, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.attempt import Attempt
from dialer.dossiers.casework import Agreement
from dialer.dossiers.ledger import Invoice, Payment
from dialer.dossiers.parties import Debtor
from dialer.dossiers.wrapups import WrapUpRecord
from dialer.live.floor import StateInterval
from dialer.mail.mailer import Mailer
from dialer.reports.daily import DailyReport, reported_day
from dialer.reports.period import Period, PeriodError, parse_period
from dialer.reports.runner import report
from dialer.settings.config import parse
from tests.conftest import run_cli
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import add_account

ZONE = "Europe/Amsterdam"
PERIOD = Period(date(2026, 3, 2), date(2026, 3, 8), ZONE)  # Monday to Sunday
ROOT = Path(__file__).resolve().parent.parent


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def build(engine: Engine) -> None:
    """Two agents, two debtors, seven calls, three promises, three invoices, five payments, one agent's hour."""
    with Session(engine) as s, s.begin():
        d1 = Debtor(ref="D1", name="Bakkerij Jansen", created_at=at(1, 8, month=1), updated_at=at(1, 8, month=1))
        d2 = Debtor(ref="D2", name="Smit Transport", created_at=at(1, 8, month=1), updated_at=at(1, 8, month=1))
        s.add_all([d1, d2])
        s.flush()
        i1 = Invoice(debtor_id=d1.id, number="F1", date=date(2026, 1, 1), due_date=date(2026, 2, 15),
                     amount=Decimal("300.00"), open_amount=Decimal("0.00"))
        i2 = Invoice(debtor_id=d2.id, number="F2", date=date(2026, 2, 1), due_date=date(2026, 3, 3),
                     amount=Decimal("500.00"), open_amount=Decimal("0.00"))
        i3 = Invoice(debtor_id=d2.id, number="F3", date=date(2026, 3, 7), due_date=date(2026, 4, 6),
                     amount=Decimal("80.00"), open_amount=Decimal("80.00"))
        s.add_all([i1, i2, i3])
        s.flush()

        def call(agent: str, ref: str, when: datetime, outcome: str | None, answered: bool = True) -> Attempt:
            row = Attempt(number="+31612345678", debtor_ref=ref, agent=agent, caller_id="+31201234567",
                          state="ended", created_at=when, answered_at=when + timedelta(seconds=20) if answered else None,
                          ended_at=when + timedelta(minutes=3), outcome="answered" if answered else "no_answer")
            s.add(row)
            s.flush()
            if outcome:
                s.add(WrapUpRecord(attempt_id=row.id, debtor_id=d1.id if ref == "D1" else d2.id, agent=agent,
                                   outcome=outcome, created_at=when + timedelta(minutes=4)))
            return row

        a1 = call("anna", "D1", at(2, 9, 10), "promise_to_pay")
        call("anna", "D2", at(2, 9, 30), "wrong_number")
        call("anna", "D2", at(3, 10), None, answered=False)
        call("anna", "D1", at(4, 10), "refused")
        call("bert", "D2", at(5, 10), "no_contact")
        call("bert", "D2", at(6, 10), "callback")
        call("anna", "D1", at(10, 10), "promise_to_pay")  # after the period
        s.add(Agreement(debtor_id=d1.id, amount=Decimal("300.00"), due_date=date(2026, 3, 5), invoice_id=i1.id,
                        attempt_id=a1.id, agent="anna", created_at=at(2, 9, 15)))
        s.add(Agreement(debtor_id=d2.id, amount=Decimal("500.00"), due_date=date(2026, 3, 6), invoice_id=i2.id,
                        agent="bert", created_at=at(20, 10, month=2)))
        s.add(Agreement(debtor_id=d2.id, amount=Decimal("50.00"), due_date=date(2026, 3, 20), agent="anna",
                        created_at=at(3, 11)))
        for debtor, invoice, amount, on in ((d1, i1, "200.00", 4), (d1, i1, "100.00", 5), (d2, i2, "100.00", 6),
                                            (d2, i2, "400.00", 9)):
            s.add(Payment(debtor_id=debtor.id, invoice_id=invoice.id, date=date(2026, 3, on), amount=Decimal(amount),
                          reference="", natural_key=f"{debtor.ref}-{on}"))
        for state, code, start, end in (("ready", None, (9, 0), (9, 10)), ("dialing", None, (9, 10), (9, 11)),
                                        ("talking", None, (9, 11), (9, 20)), ("wrap_up", None, (9, 20), (9, 22)),
                                        ("paused", "lunch", (9, 22), (10, 0)), ("offline", None, (10, 0), None)):
            s.add(StateInterval(agent="anna", state=state, code=code, started_at=at(2, *start),
                                ended_at=at(2, *end) if end else None))


def cfg(db_url: str):  # noqa: ANN201
    return parse(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                 f'[team]\ntimezone = "{ZONE}"\n')


def by_agent(rows: list[dict]) -> dict:
    return {r["agent"]: r for r in rows}


def test_outcome_rates_are_the_hand_counted_ones(db_url: str, engine: Engine) -> None:
    build(engine)
    rows = by_agent(report(engine, cfg(db_url), "outcomes", PERIOD, now=at(9, 12)))
    assert rows["anna"] == {"agent": "anna", "calls_placed": 4, "calls_answered": 3, "contacts": 3,
                            "right_party_contacts": 2, "promises": 1, "amount_promised": "300.00",
                            "contact_rate": 0.75, "right_party_contact_rate": 0.5, "promise_rate": 0.5}
    assert (rows["bert"]["contacts"], rows["bert"]["right_party_contacts"], rows["bert"]["promise_rate"]) == (1, 1, 0)
    team = rows[None]
    assert (team["calls_placed"], team["contacts"], team["right_party_contacts"], team["promises"]) == (6, 4, 3, 1)
    assert (team["contact_rate"], team["right_party_contact_rate"], team["promise_rate"]) == (0.6667, 0.5, 0.3333)


def test_a_promise_is_kept_only_when_paid_in_full_by_its_due_date(db_url: str, engine: Engine) -> None:
    build(engine)
    rows = by_agent(report(engine, cfg(db_url), "promises", PERIOD, now=at(9, 12)))
    assert rows["anna"] == {"agent": "anna", "promises_made": 2, "amount_promised": "350.00", "promises_due": 1,
                            "promises_kept": 1, "promise_kept_rate": 1.0, "amount_due": "300.00",
                            "amount_received": "300.00"}
    assert (rows["bert"]["promises_due"], rows["bert"]["promises_kept"], rows["bert"]["amount_received"]) == \
        (1, 0, "100.00")  # 400 of the 500 came three days late
    assert (rows[None]["promise_kept_rate"], rows[None]["amount_due"], rows[None]["amount_received"]) == \
        (0.5, "800.00", "400.00")
    graced = cfg(db_url).model_copy(update={"reports": cfg(db_url).reports.model_copy(update={"grace_days": 3})})
    assert by_agent(report(engine, graced, "promises", PERIOD, now=at(9, 12)))["bert"]["promises_kept"] == 1


def test_the_open_book_by_age_at_both_ends_of_the_period(db_url: str, engine: Engine) -> None:
    build(engine)
    rows = {r["bucket"]: r for r in report(engine, cfg(db_url), "ageing", PERIOD, now=at(9, 12))}
    assert rows["not_due"] == {"bucket": "not_due", "invoices_at_start": 1, "open_at_start": "500.00",
                               "invoices_at_end": 1, "open_at_end": "80.00", "change": "-420.00"}
    assert (rows["1-30"]["open_at_start"], rows["1-30"]["open_at_end"], rows["1-30"]["change"]) == \
        ("300.00", "400.00", "100.00")
    assert (rows["total"]["open_at_start"], rows["total"]["open_at_end"]) == ("800.00", "480.00")
    assert rows["90+"]["invoices_at_end"] == 0


def test_an_agents_hour_split_by_state(db_url: str, engine: Engine) -> None:
    build(engine)
    anna = by_agent(report(engine, cfg(db_url), "agents", PERIOD, now=at(9, 12)))["anna"]
    assert anna == {"agent": "anna", "logged_in_s": 3600, "talk_s": 540, "wrap_up_s": 120, "pause_s": 2280,
                    "wait_s": 600, "dialing_s": 60, "calls": 4, "promises": 2, "calls_per_hour": 4.0,
                    "promises_per_working_hour": 5.45, "pause_lunch_s": 2280}


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(PeriodError, match="ends .2026-03-01. before it starts .2026-03-02."):
        parse_period("2026-03-02", "2026-03-01", ZONE)
    with pytest.raises(PeriodError, match="--from '2 maart' is not a date"):
        parse_period("2 maart", "2026-03-01", ZONE)


def test_the_command_line_writes_json_csv_and_xlsx(db_url: str, engine: Engine, tmp_path: Path) -> None:
    build(engine)
    config = tmp_path / "belblok.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                      f'[team]\ntimezone = "{ZONE}"\n', encoding="utf-8")
    base = ("--config", str(config), "report")
    done = run_cli(*base, "outcomes", "--from", "2026-03-02", "--to", "2026-03-08", "--agent", "anna",
                   "--format", "json", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert [r["contact_rate"] for r in json.loads(done.stdout)] == [0.75]
    out = tmp_path / "ageing.csv"
    done = run_cli(*base, "ageing", "--from", "2026-03-02", "--to", "2026-03-08", "--format", "csv",
                   "--output", str(out), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0] == "bucket,invoices_at_start,open_at_start,invoices_at_end,open_at_end,change"
    book = tmp_path / "promises.xlsx"
    done = run_cli(*base, "promises", "--from", "2026-03-02", "--to", "2026-03-08", "--format", "xlsx",
                   "--output", str(book), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(book).active
    header = [c.value for c in sheet[1]]
    team = [c.value for c in sheet[sheet.max_row]]
    assert team[header.index("amount_due")] == 800.0 and team[header.index("promise_kept_rate")] == 0.5
    bad = run_cli(*base, "agents", "--from", "2026-03-08", "--to", "2026-03-02", cwd=ROOT)
    assert bad.returncode == 2 and "before it starts" in bad.stderr and bad.stdout == ""
    table = run_cli(*base, "agents", "--from", "2026-03-02", "--to", "2026-03-08", cwd=ROOT)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == ["agent", "logged_in_s", "talk_s"]


async def test_the_daily_summary_goes_to_the_supervisors_once_however_many_coordinators(
        db_url: str, engine: Engine, smtp_sink: Any) -> None:
    build(engine)
    add_account(engine, "chef", "supervisor", email="chef@belblok.example")
    add_account(engine, "anna", "agent", email="anna@belblok.example")
    config = parse(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                   f'[team]\ntimezone = "{ZONE}"\nlanguage = "en"\n[reports]\ndaily_at = "18:00"\n'
                   f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_sink.port}\ntimeout_s = 5\n')
    evening = at(2, 17, 0)  # 18:00 in Amsterdam: the summary of Monday 2 March
    assert reported_day(evening, config) == date(2026, 3, 2)
    assert reported_day(at(3, 6, 30), config) == date(2026, 3, 2)  # a morning summary is of the day before
    one = DailyReport(engine, config, Mailer(config.smtp), "node-a", clock=lambda: evening)
    two = DailyReport(engine, config, Mailer(config.smtp), "node-b", clock=lambda: evening)
    assert [await one.send(), await two.send()] == [True, False]
    (message,) = await smtp_sink.wait_for(1)
    assert message["To"] == "chef@belblok.example"
    assert message["Subject"] == "Belblok: daily summary 2026-03-02 (Belblok)"
    text = message.get_content()
    # Monday: anna's two calls (one promise, one wrong number), her hour logged in.
    assert "Calls: 2, answered 2, contacts 2 (100.0 %), right party 1 (50.0 %)" in text
    assert "anna: 2 calls, 1 promises, 1.0 h logged in" in text
    jobs = AsyncIOScheduler(timezone=UTC)
    assert one.arm(jobs)
    trigger = jobs.get_job("daily-report").trigger
    assert trigger.get_next_fire_time(None, at(2, 12)) == at(2, 17)  # 18:00 Amsterdam (CET) is 17:00 UTC
