"""Booking bank statements on SQLite and PostgreSQL: payments matched into invoices, promises settled, the
unmatched list assigned by a supervisor, and the same statement imported twice adding nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.banking.assignment import AssignError, assign, dismiss
from dialer.banking.booking import book_statement
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement
from dialer.dossiers.dossier import build_dossier
from dialer.dossiers.ledger import Invoice, Payment
from dialer.dossiers.parties import Debtor
from dialer.dossiers.unmatched import UnmatchedPayment
from dialer.imports.bankfile import read_statement
from dialer.scheduling.promises import add_promise
from dialer.settings.config import Config
from tests.bankfiles import Entry, Tx, camt, mt940
from tests.conftest import run_cli
from tests.test_queue_fixtures import make_config
from tests.test_scheduler import make_cfg
from tests.test_statements import BAKKER_IBAN, DAY, OGM, sample_entries

MADE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def cfg() -> Config:
    return make_cfg()


def debtor(session: Session, ref: str, invoices: list[tuple[str, str, str | None]], iban: str | None = None) -> int:
    """A debtor with invoices (number, amount, payment reference), due a month before the statement."""
    row = Debtor(ref=ref, name=f"Debtor {ref}", created_at=MADE, updated_at=MADE, iban=iban)
    session.add(row)
    session.flush()
    for number, amount, reference in invoices:
        session.add(Invoice(debtor_id=row.id, number=number, date=date(2026, 10, 1), due_date=date(2026, 11, 1),
                            amount=Decimal(amount), open_amount=Decimal(amount), payment_reference=reference))
    session.flush()
    return row.id


def seed(sessions: sessionmaker[Session], cfg: Config) -> dict[str, int]:
    """Four debtors; Janssens (D-2) promised the 80.00 by Friday, Bakker (D-1) 200.00."""
    with sessions.begin() as session:
        ids = {"D-1": debtor(session, "D-1", [("F2026-001", "150.00", "1234567890123456"),
                                              ("F2026-002", "50.00", None)], BAKKER_IBAN),
               "D-2": debtor(session, "D-2", [("F2026-003", "80.00", OGM)]),
               "D-3": debtor(session, "D-3", [("F2026-010", "10.00", None)]),
               "D-4": debtor(session, "D-4", [("F2026-020", "20.00", None)])}
        for ref, amount in (("D-2", "80.00"), ("D-1", "200.00")):
            add_promise(session, session.get_one(Debtor, ids[ref]), Decimal(amount), date(2026, 12, 4), cfg=cfg,
                        now=MADE, agent="anna")
    return ids


def book(sessions: sessionmaker[Session], cfg: Config, data: bytes):
    with sessions.begin() as session:
        return book_statement(session, read_statement(data, "ing.xml"), source="ing.xml", cfg=cfg, now=NOW)


def open_amounts(sessions: sessionmaker[Session]) -> dict[str, Decimal]:
    with sessions() as session:
        return dict(session.execute(select(Invoice.number, Invoice.open_amount).order_by(Invoice.number)).all())


def test_a_statement_pays_invoices_keeps_promises_and_lists_what_it_cannot_match(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    ids = seed(sessions, cfg)
    booked = book(sessions, cfg, camt(sample_entries()))
    assert (booked.credits, booked.matched, booked.unmatched, booked.already) == (5, 3, 2, 0)
    assert (booked.debits, booked.skipped) == (1, 2)
    assert booked.how == {"invoice_number": 2, "reference": 1}
    assert open_amounts(sessions) == {"F2026-001": Decimal("0.00"), "F2026-002": Decimal("50.00"),
                                      "F2026-003": Decimal("0.00"), "F2026-010": Decimal("0.00"),
                                      "F2026-020": Decimal("20.00")}
    with sessions() as session:
        payments = session.execute(select(Debtor.ref, Payment.amount, Payment.reference, Payment.date)
                                   .join(Debtor, Debtor.id == Payment.debtor_id).order_by(Payment.id)).all()
        assert payments == [("D-1", Decimal("150.00"), "E1", DAY), ("D-2", Decimal("80.00"), "E2", DAY),
                            ("D-3", Decimal("10.00"), "E3/B1", DAY)]
        janssens = session.scalars(select(Agreement).where(Agreement.debtor_id == ids["D-2"])).one()
        assert janssens.status == "kept"
        (call,) = session.scalars(select(Callback).where(Callback.agreement_id == janssens.id))
        assert call.status == "cancelled" and "promise kept" in (call.note or "")
        bakker = build_dossier(session, "D-1", DAY)
        assert (bakker["agreements"][0]["status"], bakker["payments"][0]["amount"]) == ("open", "150.00")
        waiting = session.execute(select(UnmatchedPayment.counter_name, UnmatchedPayment.reason,
                                         UnmatchedPayment.amount, UnmatchedPayment.status)
                                  .order_by(UnmatchedPayment.id)).all()
        assert waiting == [("De Vries", "unknown_payer", Decimal("20.00"), "open"),
                           ("Mulder", "unknown_payer", Decimal("30.00"), "open")]
    again = book(sessions, cfg, camt(sample_entries()))
    assert (again.matched, again.unmatched, again.already) == (0, 0, 5)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 3
        assert session.scalar(select(func.count()).select_from(UnmatchedPayment)) == 2


def test_a_supervisor_assigns_an_unmatched_credit_and_the_payer_is_known_next_time(
        sessions: sessionmaker[Session], cfg: Config) -> None:
    ids = seed(sessions, cfg)
    book(sessions, cfg, camt(sample_entries()))
    with sessions() as session:
        de_vries, mulder = session.scalars(select(UnmatchedPayment.id).order_by(UnmatchedPayment.id)).all()
    with sessions.begin() as session, pytest.raises(AssignError) as wrong:
        assign(session, de_vries, "D-9", [], by="sara", cfg=cfg, now=NOW)
    assert wrong.value.field == "debtor_ref"
    with sessions.begin() as session, pytest.raises(AssignError, match="no invoice 'F-404'"):
        assign(session, de_vries, "D-4", ["F-404"], by="sara", cfg=cfg, now=NOW)
    with sessions.begin() as session:
        item, _ = assign(session, de_vries, "D-4", ["F2026-020"], by="sara", cfg=cfg, now=NOW)
        assert (item.status, item.decided_by, item.debtor_id) == ("assigned", "sara", ids["D-4"])
    with sessions.begin() as session, pytest.raises(AssignError, match="already assigned by sara"):
        assign(session, de_vries, "D-4", [], by="sara", cfg=cfg, now=NOW)
    with sessions.begin() as session:
        dismiss(session, mulder, by="sara", now=NOW)
    assert open_amounts(sessions)["F2026-020"] == Decimal("0.00")
    with sessions() as session:
        assert session.get_one(Debtor, ids["D-4"]).iban == "NL44RABO0123456789"
    assert book(sessions, cfg, camt(sample_entries())).already == 5  # assigned and dismissed stay decided
    with sessions.begin() as session:
        session.get_one(Invoice, session.scalar(select(Invoice.id).where(Invoice.number == "F2026-020"))) \
            .open_amount = Decimal("20.00")
    later = [Entry("E7", DAY, [Tx("20.00", "De Vries", "NL44RABO0123456789", text="december")])]
    assert book(sessions, cfg, camt(later)).how == {"iban_amount": 1}  # the remembered IBAN and the amount


def test_an_mt940_statement_books_the_same_way(sessions: sessionmaker[Session], cfg: Config) -> None:
    seed(sessions, cfg)
    entries = [Entry("", DAY, [Tx("150.00", "Bakker BV", BAKKER_IBAN, reference="1234567890123456", ref="R1"),
                               Tx("50.00", "Bakker BV", BAKKER_IBAN, text="bedankt", ref="R2")])]
    booked = book(sessions, cfg, mt940(entries))
    assert booked.how == {"reference": 1, "iban_amount": 1}
    assert open_amounts(sessions)["F2026-001"] == open_amounts(sessions)["F2026-002"] == Decimal("0.00")
    assert book(sessions, cfg, mt940(entries)).already == 2


def test_belblok_import_statement_books_a_file_and_refuses_a_bad_one_whole(engine: Engine, db_url: str,
                                                                           tmp_path: Path) -> None:
    _, path = make_config(tmp_path, db_url=db_url)
    with Session(engine) as session, session.begin():
        debtor(session, "D-2", [("F2026-003", "80.00", OGM)])
    bad = tmp_path / "bad.xml"
    bad.write_bytes(camt(sample_entries()).replace(b'<Amt Ccy="EUR">150.00</Amt>', b'<Amt Ccy="EUR">1S0</Amt>'))
    refused = run_cli("--config", str(path), "import", "statement", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    assert "bad.xml: Stmt[1]/Ntry[1]/Amt: '1S0' is not an amount" in refused.stderr
    assert "nothing imported" in refused.stderr
    good = tmp_path / "ing.xml"
    good.write_bytes(camt(sample_entries()))
    done = run_cli("--config", str(path), "import", "statement", str(good), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "statement camt.053: 5 credits: 1 matched (80.00), 4 unmatched (210.00), 0 already imported" in done.stdout
    assert "4 credits wait on the unmatched payments list" in done.stdout
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1


def test_belblok_payment_unmatched_assign_and_dismiss(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _, path = make_config(tmp_path, db_url=db_url)
    with Session(engine) as session, session.begin():
        debtor(session, "D-4", [("F2026-020", "20.00", None)])
    statement = tmp_path / "ing.xml"
    statement.write_bytes(camt(sample_entries()))
    assert run_cli("--config", str(path), "import", "statement", str(statement), cwd=tmp_path).returncode == 0
    listed = run_cli("--config", str(path), "payment", "unmatched", cwd=tmp_path)
    assert "5 open (290.00), 0 assigned, 0 dismissed" in listed.stdout, listed.stdout
    with Session(engine) as session:
        ids = dict(session.execute(select(UnmatchedPayment.counter_name, UnmatchedPayment.id)).tuples().all())
    done = run_cli("--config", str(path), "payment", "assign", str(ids["De Vries"]), "D-4", "--invoice", "F2026-020",
                   "--by", "sara", cwd=tmp_path)
    assert done.returncode == 0 and '"status": "assigned"' in done.stdout, done.stderr
    twice = run_cli("--config", str(path), "payment", "assign", str(ids["De Vries"]), "D-4", cwd=tmp_path)
    assert twice.returncode == 1 and "already assigned by sara" in twice.stderr
    assert run_cli("--config", str(path), "payment", "dismiss", str(ids["Mulder"]), cwd=tmp_path).returncode == 0
    left = run_cli("--config", str(path), "payment", "unmatched", "--status", "all", "--json", cwd=tmp_path)
    assert '"counts": {"open": 3, "assigned": 1, "dismissed": 1}' in left.stdout
