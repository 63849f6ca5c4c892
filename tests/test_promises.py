"""Promises to pay: business days, the payment rule, follow-ups, broken and kept, escalation and its decision."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement, Complaint, Instalment
from dialer.dossiers.ledger import Invoice, Payment
from dialer.dossiers.parties import Debtor
from dialer.dossiers.tasks import Task
from dialer.scheduling.promises import (
    Paid,
    PromiseError,
    add_payment,
    add_promise,
    decide_escalation,
    parse_amount,
    sweep,
    verdict,
)
from dialer.scheduling.rules import (
    WhenError,
    first_business_day_after,
    follow_up_due,
    is_business_day,
    parse_day,
)
from dialer.settings.config import Config
from tests.test_scheduler import (
    Clock,
    RecordingHub,
    add_debtor,
    make_cfg,
    scheduler_for,
)

MADE = datetime(2026, 2, 23, 10, 0, tzinfo=UTC)  # Monday 23 February 2026
FRIDAY = date(2026, 2, 27)


# -- pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 2, 27), date(2026, 3, 2)),  # Friday → Monday
    (date(2026, 2, 28), date(2026, 3, 2)),  # Saturday → Monday
    (date(2026, 3, 2), date(2026, 3, 3)),  # Monday → Tuesday
    (date(2026, 4, 2), date(2026, 4, 7)),  # Thursday → Good Friday, the weekend, Easter Monday → Tuesday
    (date(2026, 4, 1), date(2026, 4, 2)),  # Wednesday → Thursday
    (date(2026, 4, 24), date(2026, 4, 28)),  # Friday → King's Day Monday 27 April → Tuesday
    (date(2026, 12, 24), date(2026, 12, 28)),  # Christmas and Boxing Day, then the weekend
])
def test_the_first_business_day_after_skips_weekends_and_public_holidays(day: date, expected: date) -> None:
    assert first_business_day_after(day, "NL") == expected


def test_business_days_follow_the_teams_country() -> None:
    assert not is_business_day(date(2026, 7, 21), "BE")  # Belgian national day
    assert is_business_day(date(2026, 7, 21), "NL")
    assert first_business_day_after(date(2026, 7, 20), "BE") == date(2026, 7, 22)


def test_a_follow_up_is_due_from_the_start_of_that_day_in_the_teams_zone() -> None:
    assert follow_up_due(FRIDAY, "NL", "Europe/Amsterdam") == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)


def test_a_promise_is_kept_by_payments_made_since_it_was_made_up_to_its_due_date() -> None:
    terms = [(FRIDAY, Decimal("100.00"))]
    made = MADE.date()

    def judge(payments: list[Paid], today: date, invoice: int | None = None) -> tuple[str, date | None]:
        v = verdict(terms, payments, made_on=made, invoice_id=invoice, today=today)
        return v.status, v.due

    assert judge([], FRIDAY) == ("open", FRIDAY)
    assert judge([], FRIDAY + timedelta(days=1)) == ("broken", FRIDAY)
    assert judge([Paid(FRIDAY, Decimal("100.00"))], FRIDAY + timedelta(days=5)) == ("kept", None)
    assert judge([Paid(date(2026, 2, 24), Decimal("60")), Paid(FRIDAY, Decimal("40"))], FRIDAY) == ("kept", None)
    assert judge([Paid(FRIDAY, Decimal("99.99"))], date(2026, 3, 2)) == ("broken", FRIDAY)
    assert judge([Paid(FRIDAY + timedelta(days=1), Decimal("100"))], date(2026, 3, 2)) == ("broken", FRIDAY)  # late
    assert judge([Paid(date(2026, 2, 20), Decimal("100"))], date(2026, 3, 2)) == ("broken", FRIDAY)  # before it
    assert judge([Paid(FRIDAY, Decimal("100"), invoice_id=7)], date(2026, 3, 2), invoice=8) == ("broken", FRIDAY)
    assert judge([Paid(FRIDAY, Decimal("100"), invoice_id=8)], date(2026, 3, 2), invoice=8) == ("kept", None)


def test_instalments_are_checked_against_the_running_total() -> None:
    terms = [(date(2026, 3, 2), Decimal("50")), (date(2026, 3, 16), Decimal("100"))]
    paid_first = [Paid(date(2026, 3, 2), Decimal("50"))]
    assert verdict(terms, paid_first, made_on=MADE.date(), invoice_id=None, today=date(2026, 3, 10)) \
        .due == date(2026, 3, 16)
    assert verdict(terms, [], made_on=MADE.date(), invoice_id=None, today=date(2026, 3, 3)).status == "broken"


def test_a_complaint_moves_the_due_date_to_its_resolution() -> None:
    terms = [(FRIDAY, Decimal("100"))]
    v = verdict(terms, [], made_on=MADE.date(), invoice_id=None, today=date(2026, 3, 2),
                waits_until=date(2026, 3, 10))
    assert (v.status, v.due) == ("open", date(2026, 3, 10))


@pytest.mark.parametrize(("text", "amount"), [
    ("100", "100.00"), ("100.5", "100.50"), ("100,5", "100.50"), ("1234,56", "1234.56"),
    ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("€ 12,50", "12.50"), ("1.234.567,8", "1234567.80"),
])
def test_amounts_take_a_dot_or_a_comma(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["", "abc", "12,345", "1.2.3", "-5", "0", "0,00", "12,5x", "1e3", "NaN"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(PromiseError):
        parse_amount(text)


def test_dates_are_iso_or_day_month_year() -> None:
    assert parse_day("2026-03-02") == parse_day("02-03-2026") == parse_day("2/3/2026") == date(2026, 3, 2)
    for bad in ("2026-02-30", "03/02", "morgen", "2026-3-2T10:00"):
        with pytest.raises(WhenError):
            parse_day(bad)


# -- bookkeeping in the database ------------------------------------------------------------------


@pytest.fixture
def cfg() -> Config:
    return make_cfg()


def promise(sessions: sessionmaker[Session], cfg: Config, debtor_id: int, amount: str = "100", due: date = FRIDAY,
            *, invoice: str | None = None, at: datetime = MADE) -> int:
    with sessions.begin() as session:
        debtor = session.get(Debtor, debtor_id)
        agreement, _ = add_promise(session, debtor, Decimal(amount), due, cfg=cfg, now=at, invoice_number=invoice,
                                   agent="anna")
        return agreement.id


def pay(sessions: sessionmaker[Session], cfg: Config, debtor_id: int, amount: str, on: date,
        *, invoice: str | None = None, at: datetime | None = None) -> list[int]:
    with sessions.begin() as session:
        debtor = session.get(Debtor, debtor_id)
        return add_payment(session, debtor, Decimal(amount), on, cfg=cfg, now=at or datetime.combine(
            on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12), invoice_number=invoice)[1]


def run_sweep(sessions: sessionmaker[Session], cfg: Config, today: date) -> list[int]:
    with sessions.begin() as session:
        return sweep(session, today, cfg, now=datetime.combine(today, datetime.min.time(), tzinfo=UTC))


def follow_ups(sessions: sessionmaker[Session], agreement_id: int) -> list[tuple[str, datetime]]:
    with sessions() as session:
        return [(c.status, c.due_at) for c in session.scalars(
            select(Callback).where(Callback.agreement_id == agreement_id).order_by(Callback.id))]


def status(sessions: sessionmaker[Session], agreement_id: int) -> str:
    with sessions() as session:
        return session.get(Agreement, agreement_id).status  # type: ignore[union-attr]


MONDAY_START = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # Monday 2 March 00:00 in Amsterdam


def test_a_promise_gets_its_follow_up_on_the_first_business_day_after_and_breaks_unpaid(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    agreement = promise(sessions, cfg, debtor)
    assert follow_ups(sessions, agreement) == [("pending", MONDAY_START)]
    assert run_sweep(sessions, cfg, FRIDAY) == []  # due today: still open
    assert status(sessions, agreement) == "open"
    assert run_sweep(sessions, cfg, date(2026, 2, 28)) == [agreement]
    assert status(sessions, agreement) == "broken"
    assert follow_ups(sessions, agreement) == [("pending", MONDAY_START)]
    assert run_sweep(sessions, cfg, date(2026, 3, 2)) == []  # idempotent
    assert follow_ups(sessions, agreement) == [("pending", MONDAY_START)]


def test_a_promise_paid_in_full_in_time_is_kept_and_its_follow_up_cancelled(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    with sessions.begin() as session:
        session.add(Invoice(debtor_id=debtor, number="F-1", date=date(2026, 1, 1), due_date=date(2026, 1, 31),
                            amount=Decimal("300"), open_amount=Decimal("300")))
    agreement = promise(sessions, cfg, debtor, "150", invoice="F-1")
    assert pay(sessions, cfg, debtor, "100", date(2026, 2, 25), invoice="F-1") == []
    assert pay(sessions, cfg, debtor, "50", date(2026, 2, 26)) == []  # on account: not for this invoice
    assert pay(sessions, cfg, debtor, "50", FRIDAY, invoice="F-1") == [agreement]
    assert status(sessions, agreement) == "kept"
    assert [s for s, _ in follow_ups(sessions, agreement)] == ["cancelled"]
    with sessions() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert invoice.open_amount == Decimal("150.00")
        assert len(set(session.scalars(select(Payment.natural_key)))) == 3
    assert run_sweep(sessions, cfg, date(2026, 3, 5)) == []


def test_a_payment_entered_late_but_dated_in_time_turns_a_broken_promise_into_a_kept_one(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    agreement = promise(sessions, cfg, debtor)
    run_sweep(sessions, cfg, date(2026, 2, 28))
    assert status(sessions, agreement) == "broken"
    pay(sessions, cfg, debtor, "100", FRIDAY, at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # the bank file of Monday
    assert status(sessions, agreement) == "kept"
    assert [s for s, _ in follow_ups(sessions, agreement)] == ["cancelled"]


def test_a_promise_waiting_for_a_complaint_has_no_follow_up_until_it_is_resolved(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    with sessions.begin() as session:
        complaint = Complaint(debtor_id=debtor, status="open", summary="goederen beschadigd",
                              opened_on=date(2026, 2, 20))
        session.add(complaint)
        session.flush()
        complaint_id = complaint.id
        agreement = Agreement(debtor_id=debtor, amount=Decimal("100"), due_date=FRIDAY, status="open",
                              conditional_on_complaint_id=complaint_id, agent="anna", created_at=MADE)
        session.add(agreement)
        session.flush()
        agreement_id = agreement.id
        # The wrap-up books a follow-up for every promise; while the complaint is open it must wait.
        session.add(Callback(debtor_id=debtor, kind="follow_up", agent="anna", status="pending",
                             due_at=datetime(2026, 2, 28, 9, 0, tzinfo=UTC), agreement_id=agreement_id,
                             created_at=MADE))
    run_sweep(sessions, cfg, date(2026, 3, 10))
    assert status(sessions, agreement_id) == "open"
    assert [s for s, _ in follow_ups(sessions, agreement_id)] == ["cancelled"]
    with sessions.begin() as session:
        row = session.get(Complaint, complaint_id)
        row.status, row.resolved_on = "resolved", date(2026, 3, 12)  # type: ignore[union-attr]
    run_sweep(sessions, cfg, date(2026, 3, 12))
    assert status(sessions, agreement_id) == "open"  # the term now ends with the resolution
    assert follow_ups(sessions, agreement_id) == [("pending", datetime(2026, 3, 13, 9, 0, tzinfo=UTC))]
    run_sweep(sessions, cfg, date(2026, 3, 13))
    assert status(sessions, agreement_id) == "broken"


def test_a_second_broken_promise_since_the_last_kept_one_escalates_to_a_supervisor_who_decides(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    first = promise(sessions, cfg, debtor, due=date(2026, 2, 24))
    run_sweep(sessions, cfg, date(2026, 2, 25))
    with sessions() as session:
        assert session.scalars(select(Task)).all() == []  # one broken promise: the agent follows up
    kept = promise(sessions, cfg, debtor, due=date(2026, 3, 3), at=datetime(2026, 2, 25, 9, tzinfo=UTC))
    pay(sessions, cfg, debtor, "100", date(2026, 3, 3))
    assert status(sessions, kept) == "kept"
    second = promise(sessions, cfg, debtor, due=date(2026, 3, 10), at=datetime(2026, 3, 4, 9, tzinfo=UTC))
    run_sweep(sessions, cfg, date(2026, 3, 11))
    with sessions() as session:
        assert session.scalars(select(Task)).all() == []  # only one broken since the kept one
    third = promise(sessions, cfg, debtor, due=date(2026, 3, 17), at=datetime(2026, 3, 12, 9, tzinfo=UTC))
    run_sweep(sessions, cfg, date(2026, 3, 18))
    run_sweep(sessions, cfg, date(2026, 3, 19))
    with sessions() as session:
        [task] = session.scalars(select(Task)).all()
        assert (task.kind, task.role, task.status, task.agreement_id) == ("escalation", "supervisor", "open", third)
        assert f"{second}, {third}" in (task.detail or "") and str(first) not in (task.detail or "")
    now = datetime(2026, 3, 19, 10, tzinfo=UTC)
    with sessions.begin() as session:
        with pytest.raises(PromiseError, match="decision must be"):
            decide_escalation(session, task.id, "forgive", "sanne", now=now)
    with sessions.begin() as session:
        decide_escalation(session, task.id, "collection_agency", "sanne", now=now)
    with sessions() as session:
        decided = session.get(Task, task.id)
        assert (decided.decision, decided.decided_by, decided.decided_at, decided.status) == (  # type: ignore
            "collection_agency", "sanne", now, "done")
        follow_on = session.scalars(select(Task).where(Task.kind == "collection_agency")).one()
        assert follow_on.status == "open" and follow_on.agreement_id == third
    with sessions.begin() as session, pytest.raises(PromiseError, match="already decided"):
        decide_escalation(session, task.id, "written_reminder", "sanne", now=now)


def test_instalments_move_the_follow_up_to_the_first_unpaid_one(sessions: sessionmaker[Session],
                                                                 cfg: Config) -> None:
    debtor = add_debtor(sessions)
    with sessions.begin() as session:
        agreement = Agreement(debtor_id=debtor, amount=Decimal("100"), due_date=date(2026, 3, 13), status="open",
                              created_at=MADE, instalments=[
                                  Instalment(seq=1, amount=Decimal("50"), due_date=FRIDAY),
                                  Instalment(seq=2, amount=Decimal("50"), due_date=date(2026, 3, 13))])
        session.add(agreement)
        session.flush()
        agreement_id = agreement.id
    run_sweep(sessions, cfg, date(2026, 2, 25))
    assert follow_ups(sessions, agreement_id) == [("pending", MONDAY_START)]
    pay(sessions, cfg, debtor, "50", date(2026, 2, 26))
    assert follow_ups(sessions, agreement_id) == [("pending", datetime(2026, 3, 15, 23, 0, tzinfo=UTC))]
    assert status(sessions, agreement_id) == "open"


async def test_the_scheduler_settles_a_promise_before_it_announces_its_follow_up(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    agreement = promise(sessions, cfg, debtor)
    with sessions.begin() as session:  # an import wrote the payment; nothing settled the promise yet
        session.add(Payment(debtor_id=debtor, date=FRIDAY, amount=Decimal("100"), natural_key="bank:1"))
    hub = RecordingHub()
    sched = scheduler_for(sessions, hub, Clock(MONDAY_START + timedelta(hours=9)), AsyncIOScheduler(timezone=UTC),
                          cfg=cfg)
    await sched.fire()
    assert hub.published == []
    assert status(sessions, agreement) == "kept"
    await sched.stop()


async def test_the_scheduler_announces_a_broken_promises_follow_up_to_its_agent(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    debtor = add_debtor(sessions)
    agreement = promise(sessions, cfg, debtor)
    hub = RecordingHub()
    clock = Clock(MONDAY_START + timedelta(minutes=5))
    sched = scheduler_for(sessions, hub, clock, AsyncIOScheduler(timezone=UTC), cfg=cfg)
    await sched.start()  # the start sweep breaks it; the follow-up is due
    assert status(sessions, agreement) == "broken"
    [event] = hub.published
    assert (event.kind, event.agent, event.detail["kind"], event.detail["agreement_id"]) == (
        "callback_due", "anna", "follow_up", agreement)
    await sched.stop()


def test_a_promise_for_the_past_or_an_unknown_invoice_is_refused(sessions: sessionmaker[Session],
                                                                  cfg: Config) -> None:
    debtor = add_debtor(sessions)
    with pytest.raises(PromiseError, match="in the past"):
        promise(sessions, cfg, debtor, due=date(2026, 2, 20))
    with pytest.raises(PromiseError, match="no invoice"):
        promise(sessions, cfg, debtor, invoice="F-404")
    with sessions() as session:
        assert session.scalars(select(Agreement)).all() == []


def test_a_sweep_over_more_debtors_than_one_statement_takes_settles_them_all(
        sessions: sessionmaker[Session], cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import dialer.scheduling.promises as promises_module

    debtors = [add_debtor(sessions, f"D-{n}", number=f"+3161234560{n}") for n in range(5)]
    agreements = [promise(sessions, cfg, d) for d in debtors]
    pay(sessions, cfg, debtors[2], "100", FRIDAY)  # one of them paid in time
    monkeypatch.setattr(promises_module, "SWEEP_CHUNK", 2)  # 5 debtors: three statements
    with sessions.begin() as session:
        changed = sweep(session, date(2026, 2, 28), cfg, now=datetime(2026, 2, 28, tzinfo=UTC), debtor_ids=debtors)
    assert sorted(changed) == sorted(a for a in agreements if a != agreements[2])  # paid one was settled on payment
    assert [status(sessions, a) for a in agreements] == ["broken", "broken", "kept", "broken", "broken"]
