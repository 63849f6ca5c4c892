"""Booking a bank statement: each new credit matched and paid into invoices, or put on the unmatched list.

All in the caller's transaction: the payments, the invoices' open amounts, the unmatched list, the promises
settled by the payments (kept ones cancel their follow-up call) and the queue's statistics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..dossiers.ledger import Invoice, Payment
from ..dossiers.parties import Debtor
from ..dossiers.stats import refresh_stats
from ..dossiers.unmatched import UnmatchedPayment
from ..imports.columns import Progress
from ..imports.statement import Credit, Statement
from ..scheduling.promises import sweep
from ..scheduling.rules import local_day
from ..settings.config import Config
from .matching import Book, Match, Miss, OpenItem, match

CHUNK = 5000  # keys per IN list and rows per executemany


@dataclass
class Booked:
    """What booking a statement did, for the summary line and the API."""

    format: str
    credits: int = 0
    matched: int = 0
    unmatched: int = 0
    already: int = 0  # credits of an earlier import of the same statement
    debits: int = 0
    skipped: int = 0
    amount_matched: Decimal = Decimal("0.00")
    amount_unmatched: Decimal = Decimal("0.00")
    promises_settled: list[int] = field(default_factory=list)
    how: dict[str, int] = field(default_factory=dict)  # matched credits by rule

    @property
    def summary(self) -> str:
        """One line: 'statement camt.053: 12 credits: 10 matched (€ …), 2 unmatched, 0 already imported; …'."""
        return (f"statement {self.format}: {self.credits} credits: {self.matched} matched ({self.amount_matched}), "
                f"{self.unmatched} unmatched ({self.amount_unmatched}), {self.already} already imported; "
                f"{self.debits} debits and {self.skipped} pending or reversed entries left out; "
                f"{len(self.promises_settled)} promises settled")


def load_book(session: Session) -> Book:
    """Every open invoice and every debtor's IBAN, as the matcher reads them."""
    items = (OpenItem(*row) for row in session.execute(
        select(Invoice.id, Invoice.debtor_id, Invoice.number, Invoice.due_date, Invoice.open_amount,
               Invoice.currency, Invoice.payment_reference).where(Invoice.open_amount > 0)))
    ibans = session.execute(select(Debtor.id, Debtor.iban).where(Debtor.iban.is_not(None)))
    return Book.of(items, [(debtor_id, iban) for debtor_id, iban in ibans])


def _known(session: Session, keys: list[str]) -> set[str]:
    """The credits' keys already booked, as payments (the first part carries the bare key) or as unmatched."""
    known: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        known |= set(session.scalars(select(Payment.natural_key).where(Payment.natural_key.in_(chunk))))
        known |= set(session.scalars(select(UnmatchedPayment.natural_key)
                                     .where(UnmatchedPayment.natural_key.in_(chunk))))
    return known


def payment_rows(key: str, on: date, reference: str, debtor_id: int, parts: list[tuple[int, Decimal]],
                 left: Decimal) -> list[dict]:
    """The payments for one credit: one per invoice paid, the rest on account; keys `key`, `key#2`…."""
    rows = [{"invoice_id": invoice_id, "amount": share} for invoice_id, share in parts]
    if left > 0 or not rows:
        rows.append({"invoice_id": None, "amount": left})
    return [{"debtor_id": debtor_id, "date": on, "reference": reference or key[-128:],
             "natural_key": key if n == 1 else f"{key}#{n}", **row} for n, row in enumerate(rows, start=1)]


def book_statement(session: Session, statement: Statement, *, source: str, cfg: Config, now: datetime,
                   progress: Progress | None = None) -> Booked:
    """Match and book every credit not booked before; the caller commits."""
    result = Booked(statement.format, debits=statement.debits, skipped=statement.skipped)
    known = _known(session, [c.key for c in statement.credits])
    fresh = [c for c in statement.credits if c.key not in known]
    result.credits, result.already = len(statement.credits), len(statement.credits) - len(fresh)
    book = load_book(session) if fresh else Book()
    payments: list[dict] = []
    unmatched: list[dict] = []
    for done, credit in enumerate(fresh, start=1):
        verdict = match(book, amount=credit.amount, currency=credit.currency, reference=credit.reference,
                        text=credit.remittance, counter_iban=credit.counter_iban, batch=credit.batch,
                        issuer=credit.issuer)
        if isinstance(verdict, Match):
            parts, left = book.allocate(verdict.invoice_ids, credit.amount)
            payments += payment_rows(credit.key, credit.booked_on, credit.entry_ref, verdict.debtor_id, parts, left)
            result.matched += 1
            result.amount_matched += credit.amount
            result.how[verdict.how] = result.how.get(verdict.how, 0) + 1
        else:
            unmatched.append(unmatched_row(credit, verdict, source, now))
            result.unmatched += 1
            result.amount_unmatched += credit.amount
        if progress and done % 1000 == 0:
            progress("matching", done, len(fresh))
    _write(session, book, payments, unmatched, progress)
    debtors = sorted({row["debtor_id"] for row in payments})
    if debtors:
        result.promises_settled = settle(session, debtors, cfg, now)
    return result


def unmatched_row(credit: Credit, verdict: Miss, source: str, now: datetime) -> dict:
    """The unmatched list's row for a credit, as the bank described it."""
    return {"natural_key": credit.key, "account": credit.account, "booked_on": credit.booked_on,
            "amount": credit.amount, "currency": credit.currency, "counter_iban": credit.counter_iban,
            "counter_name": credit.counter_name, "reference": credit.reference, "remittance": credit.remittance or None,
            "entry_ref": credit.entry_ref, "reason": verdict.reason, "debtor_id": verdict.debtor_id,
            "status": "open", "source": source[:255], "created_at": now}


def settle(session: Session, debtor_ids: Iterable[int], cfg: Config, now: datetime) -> list[int]:
    """Settle the debtors' promises against their payments and refresh the queue's statistics for them."""
    ids = sorted(set(debtor_ids))
    today = local_day(now, ZoneInfo(cfg.team.timezone))
    settled = sweep(session, today, cfg, now=now, debtor_ids=ids)
    for start in range(0, len(ids), CHUNK):
        refresh_stats(session.connection(), today, now, ids[start:start + CHUNK])
    return settled


def _write(session: Session, book: Book, payments: list[dict], unmatched: list[dict],
           progress: Progress | None) -> None:
    """Core executemany: the payments, the invoices' new open amounts, the unmatched list."""
    paid = sorted({row["invoice_id"] for row in payments if row["invoice_id"] is not None})
    write_payments(session, payments, {invoice_id: book.open[invoice_id] for invoice_id in paid}, unmatched,
                   progress)


def write_payments(session: Session, payments: list[dict], open_amounts: dict[int, Decimal],
                   unmatched: Sequence[dict] = (), progress: Progress | None = None) -> None:
    """Insert payments (and unmatched rows) and set the invoices' open amounts, CHUNK rows a statement."""
    opens = [{"_id": invoice_id, "open": amount} for invoice_id, amount in open_amounts.items()]
    statements = ((insert(Payment.__table__), payments),
                  (update(Invoice.__table__).where(Invoice.__table__.c.id == bindparam("_id"))
                   .values(open_amount=bindparam("open")), opens),
                  (insert(UnmatchedPayment.__table__), list(unmatched)))
    total, done = len(payments) + len(opens) + len(unmatched), 0
    for statement, rows in statements:
        for start in range(0, len(rows), CHUNK):
            session.execute(statement, rows[start:start + CHUNK])
            done += len(rows[start:start + CHUNK])
            if progress:
                progress("writing", done, total)
    session.flush()
