"""Writing read e-invoices in the caller's transaction: debtors found (or made), invoices upserted, credits applied.

Everything is checked first; on ImportFailed nothing has been written. See docs/import.md, "E-invoices".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.clock import utcnow
from ..dossiers.ledger import CreditNote, Invoice
from ..dossiers.parties import Debtor
from ..dossiers.stats import refresh_stats
from .columns import Progress
from .errors import ImportErrorItem, ImportFailed
from .ubl import BUYER, Buyer, Document
from .ublxml import ElementError

CHUNK = 500  # values per IN (...): well below SQLite's and PostgreSQL's limits on bound parameters
CREDITED = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
LABELS = {"vat_number": "VAT number", "company_number": "company number", "ref": "reference"}
FILLED = ("vat_number", "company_number", "iban")  # what an e-invoice may add to a known debtor, never change
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class EInvoiceResult:
    """What an import of e-invoices wrote."""

    invoices_new: int
    invoices_updated: int
    credit_notes_new: int
    credit_notes_known: int  # imported before: not applied again
    debtors_created: int

    @property
    def summary(self) -> str:
        """One line: 'imported 3 e-invoices: 2 new, 1 updated; 1 credit notes: 1 new, 0 already imported; ...'."""
        return (f"imported {self.invoices_new + self.invoices_updated} e-invoices: {self.invoices_new} new, "
                f"{self.invoices_updated} updated; {self.credit_notes_new + self.credit_notes_known} credit notes: "
                f"{self.credit_notes_new} new, {self.credit_notes_known} already imported; "
                f"{self.debtors_created} debtors created")


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    """Distinct values, CHUNK at a time."""
    items = sorted(set(values))
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


@dataclass
class Book:
    """The debtors the buyers may be, with their invoices and credit notes, loaded once; new debtors added."""

    now: datetime
    by: dict[str, dict[str, list[Debtor]]] = field(default_factory=dict)  # attribute → value → debtors
    invoices: dict[tuple[Debtor, str], Invoice] = field(default_factory=dict)
    credit_notes: set[tuple[Debtor, str]] = field(default_factory=set)
    created: list[Debtor] = field(default_factory=list)
    fills: dict[tuple[Debtor, str], str] = field(default_factory=dict)  # blanks of known debtors to fill

    @classmethod
    def load(cls, session: Session, buyers: list[Buyer], now: datetime) -> Book:
        """The debtors whose VAT number, company number or reference one of the buyers has."""
        book, found = cls(now, {name: {} for name in ("vat_number", "company_number", "ref")}), {}
        wanted = {"vat_number": [b.vat_number for b in buyers], "company_number": [b.company_number for b in buyers],
                  "ref": [v for b in buyers for v in (b.identifier, b.key)]}
        for name, values in wanted.items():
            for chunk in _chunks(v for v in values if v):
                for debtor in session.scalars(select(Debtor).where(getattr(Debtor, name).in_(chunk))):
                    found[debtor.id] = debtor
        for debtor in sorted(found.values(), key=lambda d: d.id):
            book.index(debtor)
        for chunk in _chunks(found):
            for invoice in session.scalars(select(Invoice).where(Invoice.debtor_id.in_(chunk))):
                book.invoices[found[invoice.debtor_id], invoice.number] = invoice
            for debtor_id, number in session.execute(select(CreditNote.debtor_id, CreditNote.number)
                                                     .where(CreditNote.debtor_id.in_(chunk))):
                book.credit_notes.add((found[debtor_id], number))
        return book

    def index(self, debtor: Debtor) -> None:
        """Make a debtor findable by its VAT number, company number and reference."""
        for name, index in self.by.items():
            if getattr(debtor, name):
                index.setdefault(getattr(debtor, name), []).append(debtor)

    def debtor(self, doc: Document, errors: list[ImportErrorItem]) -> Debtor | None:
        """The buyer's debtor: by VAT number, company number, identifier as reference, key; else a new one."""
        buyer = doc.buyer
        for name, value in (("vat_number", buyer.vat_number), ("company_number", buyer.company_number),
                            ("ref", buyer.identifier), ("ref", buyer.key)):
            matches = self.by[name].get(value or "", [])
            if len(matches) > 1:
                errors.append(ElementError(None, BUYER, f"{LABELS[name]} {value} is on "
                                           f"{len(matches)} debtors ({', '.join(d.ref for d in matches)}): keep it "
                                           f"on one, so the invoice has one debtor", doc.file))
                return None
            if matches:
                self.fill(matches[0], buyer)
                return matches[0]
        # An unknown buyer becomes a debtor (docs/import.md): the e-invoice names it as fully as a debtors CSV.
        debtor = Debtor(ref=buyer.key, name=buyer.name, kind="company", country=buyer.country,
                        vat_number=buyer.vat_number, company_number=buyer.company_number, iban=buyer.iban,
                        created_at=self.now, updated_at=self.now)
        self.created.append(debtor)
        self.index(debtor)
        return debtor

    def fill(self, debtor: Debtor, buyer: Buyer) -> None:
        """Plan to add the buyer's VAT number, company number or IBAN where the known debtor has none."""
        for name in FILLED:
            value = getattr(buyer, name)
            if value and getattr(debtor, name) is None and (debtor, name) not in self.fills \
                    and not self.by.get(name, {}).get(value):
                self.fills[debtor, name] = value
                if name in self.by:  # a later buyer with this number is this debtor too
                    self.by[name][value] = [debtor]


def import_einvoices(session: Session, documents: list[Document], *, today: date, now: datetime | None = None,
                     progress: Progress | None = None) -> EInvoiceResult:
    """Check all documents against the database, then write them in the session's transaction (the caller
    commits), or raise ImportFailed having written nothing."""
    now = now or utcnow()
    errors: list[ImportErrorItem] = []
    book = Book.load(session, [doc.buyer for doc in documents], now)
    owned = [(doc, book.debtor(doc, errors)) for doc in documents]
    seen: dict[tuple[Debtor, str, str], str] = {}
    invoices: dict[tuple[Debtor, str], Document] = {}
    credits: list[tuple[Document, Debtor]] = []
    known = 0
    for doc, debtor in owned:
        if debtor is None:
            continue
        if (debtor, doc.kind, doc.number) in seen:
            errors.append(ElementError(None, "cbc:ID", f"{doc.kind.replace('_', ' ')} {doc.number!r} of debtor "
                                       f"{debtor.ref!r} is also in {seen[debtor, doc.kind, doc.number]}", doc.file))
            continue
        seen[debtor, doc.kind, doc.number] = doc.file
        if doc.kind == "invoice":
            invoices[debtor, doc.number] = doc
    for doc, debtor in owned:
        if debtor is None or doc.kind != "credit_note":
            continue
        if (debtor, doc.number) in book.credit_notes:
            known += 1  # applied when it was first imported
            continue
        target = invoices.get((debtor, doc.invoice_number or "")) or book.invoices.get((debtor, doc.invoice_number))
        if target is None:
            errors.append(ElementError(None, CREDITED, f"no invoice {doc.invoice_number!r} of debtor {debtor.ref!r}, "
                                       f"neither in the database nor in this import", doc.file))
        elif target.currency != doc.currency:
            errors.append(ElementError(None, "cbc:DocumentCurrencyCode", f"{doc.currency} differs from invoice "
                                       f"{doc.invoice_number!r}'s currency {target.currency}", doc.file))
        else:
            credits.append((doc, debtor))
    if errors:
        raise ImportFailed(errors)
    new = _write(session, book, invoices, credits, progress)
    touched = sorted({debtor.id for _, debtor in owned if debtor is not None})
    if touched:
        # The queue ranks large books from stored statistics: keep them true in the same transaction.
        refresh_stats(session.connection(), today, now, touched)
    return EInvoiceResult(new, len(invoices) - new, len(credits), known, len(book.created))


def _write(session: Session, book: Book, invoices: dict[tuple[Debtor, str], Document],
           credits: list[tuple[Document, Debtor]], progress: Progress | None) -> int:
    """Debtors, then invoices, then credit notes; the number of new invoices."""
    session.add_all(book.created)
    for (debtor, name), value in book.fills.items():
        setattr(debtor, name, value)
        debtor.updated_at = book.now
    session.flush()
    new, total = 0, len(invoices) + len(credits)
    for done, ((debtor, number), doc) in enumerate(invoices.items(), start=1):
        invoice = book.invoices.get((debtor, number))
        if invoice is None:
            new += 1
            invoice = Invoice(debtor_id=debtor.id, number=number, open_amount=doc.amount)
            book.invoices[debtor, number] = invoice
            session.add(invoice)
        else:
            # A corrected invoice under the same number: what was paid or credited on it stays paid or credited.
            invoice.open_amount = min(doc.amount, max(ZERO, invoice.open_amount + doc.amount - invoice.amount))
        invoice.date, invoice.due_date, invoice.amount, invoice.currency = (doc.issue_date, doc.due_date,
                                                                            doc.amount, doc.currency)
        invoice.payment_reference = doc.payment_reference or invoice.payment_reference
        invoice.description = doc.description or invoice.description
        if progress:
            progress("writing e-invoices", done, total)
    session.flush()
    for done, (doc, debtor) in enumerate(credits, start=len(invoices) + 1):
        invoice = book.invoices[debtor, doc.invoice_number]
        session.add(CreditNote(debtor_id=debtor.id, number=doc.number, invoice_id=invoice.id, date=doc.issue_date,
                               amount=doc.amount, currency=doc.currency, created_at=book.now))
        invoice.open_amount = max(ZERO, invoice.open_amount - doc.amount)  # a credit beyond what is open: a refund
        if progress:
            progress("writing e-invoices", done, total)
    session.flush()
    return new
