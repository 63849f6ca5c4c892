"""Which debtor and invoices a bank credit pays, decided only where it is certain (pure: plain data in and out).

The order, strongest first: the payment reference (betalingskenmerk, +++OGM+++ with its check digits, RF), the
invoice numbers in the free text, then the payer's known IBAN with an amount that fits. Anything less than
certain is a `Miss` with its reason and, where one is likely, the debtor to suggest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..core.identifiers import compact, is_valid_ogm, ogm, ogm_in

MIN_NUMBER = 4  # shorter invoice numbers ('12') are found in dates and amounts too often to be trusted in text
REASONS = ("bad_check_digits", "unknown_reference", "ambiguous", "amount_differs", "unknown_payer", "batch",
           "currency")
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z./_-]*[0-9A-Za-z]|[0-9A-Za-z]")


@dataclass(frozen=True)
class OpenItem:
    """An invoice still open: what the matcher needs of it."""

    id: int
    debtor_id: int
    number: str
    due_date: date
    open_amount: Decimal
    currency: str = "EUR"
    reference: str | None = None  # compact payment reference


@dataclass(frozen=True)
class Match:
    """A credit paid these invoices (oldest first) of this debtor; found `how`."""

    debtor_id: int
    invoice_ids: tuple[int, ...]
    how: str  # reference, invoice_number or iban_amount


@dataclass(frozen=True)
class Miss:
    """A credit not matched with certainty: why, and the debtor it probably came from (if any)."""

    reason: str
    debtor_id: int | None = None


@dataclass
class Book:
    """Open invoices indexed by reference, number and debtor, and debtors by IBAN; open amounts kept as paid."""

    items: dict[int, OpenItem] = field(default_factory=dict)
    open: dict[int, Decimal] = field(default_factory=dict)
    by_reference: dict[str, list[int]] = field(default_factory=dict)
    by_number: dict[str, list[int]] = field(default_factory=dict)
    by_debtor: dict[int, list[int]] = field(default_factory=dict)
    by_iban: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Iterable[OpenItem], ibans: Iterable[tuple[int, str]]) -> Book:
        """A book of these open invoices and (debtor id, IBAN) pairs."""
        book = cls()
        for item in sorted(items, key=lambda i: (i.due_date, i.id)):
            book.items[item.id], book.open[item.id] = item, item.open_amount
            if item.reference:
                book.by_reference.setdefault(item.reference, []).append(item.id)
            if len(compact(item.number)) >= MIN_NUMBER:
                book.by_number.setdefault(compact(item.number), []).append(item.id)
            book.by_debtor.setdefault(item.debtor_id, []).append(item.id)
        for debtor_id, iban in ibans:
            book.by_iban.setdefault(iban, []).append(debtor_id)
        return book

    def still_open(self, debtor_id: int) -> list[int]:
        """The debtor's invoices with something still open, oldest due first."""
        return [i for i in self.by_debtor.get(debtor_id, ()) if self.open[i] > 0]

    def allocate(self, invoice_ids: Iterable[int], amount: Decimal) -> tuple[list[tuple[int, Decimal]], Decimal]:
        """Pay `amount` into the invoices in order, up to each one's open amount; (parts, what is left over)."""
        parts, left = [], amount
        for invoice_id in invoice_ids:
            share = min(left, self.open[invoice_id])
            if share > 0:
                parts.append((invoice_id, share))
                self.open[invoice_id] -= share
                left -= share
        return parts, left


def match(book: Book, *, amount: Decimal, currency: str, reference: str | None, text: str,
          counter_iban: str | None, batch: bool = False, issuer: str | None = None) -> Match | Miss:
    """Decide one credit against the book (the book's open amounts are not changed here).

    A reference is read as a Belgian structured communication when written as one (+++…+++, slashes) or when
    the bank says so (issuer BBA); twelve bare digits from elsewhere may be any creditor's reference.
    """
    payer = _payer(book, counter_iban)
    if batch:
        return Miss("batch", payer)
    given = reference or ogm_in(text)
    bad_check = False
    if given:
        digits = ogm(given)
        if digits is not None and not is_valid_ogm(digits) and (issuer == "BBA" or given != digits
                                                                  or not reference):
            bad_check = True  # a mistyped structured communication: never trusted, but the text may still name
        else:
            found = _one_debtor(book, book.by_reference.get(digits or compact(given), [])
                                or book.by_number.get(compact(given), []), payer)
            if isinstance(found, Match):
                return _in_currency(book, found, currency, "reference")
            if found == "ambiguous":
                return Miss("ambiguous", payer)
    named = _one_debtor(book, _numbers_in(book, text), payer)
    if isinstance(named, Match):
        return _in_currency(book, named, currency, "invoice_number")
    if named == "ambiguous":
        return Miss("ambiguous", payer)
    if bad_check:
        return Miss("bad_check_digits", payer)
    if payer is None:
        ambiguous = counter_iban is not None and len(book.by_iban.get(counter_iban, ())) > 1
        return Miss("ambiguous" if ambiguous else "unknown_reference" if given else "unknown_payer")
    return _by_amount(book, payer, amount, currency)


def _payer(book: Book, iban: str | None) -> int | None:
    """The one debtor with this IBAN, or None (unknown, or shared by several debtors)."""
    debtors = set(book.by_iban.get(iban or "", ()))
    return next(iter(debtors)) if len(debtors) == 1 else None


def _numbers_in(book: Book, text: str) -> list[int]:
    """The invoices whose numbers appear as words of the text."""
    found: list[int] = []
    for token in _TOKEN.findall(text or ""):
        for invoice_id in book.by_number.get(compact(token), ()):
            if invoice_id not in found:
                found.append(invoice_id)
    return found


def _one_debtor(book: Book, invoice_ids: list[int], payer: int | None) -> Match | str | None:
    """A Match when the invoices are one debtor's (or the payer's among several), 'ambiguous', or None."""
    if not invoice_ids:
        return None
    debtors = {book.items[i].debtor_id for i in invoice_ids}
    if len(debtors) > 1:
        if payer not in debtors:
            return "ambiguous"
        debtors, invoice_ids = {payer}, [i for i in invoice_ids if book.items[i].debtor_id == payer]
    (debtor_id,) = debtors
    ordered = sorted(invoice_ids, key=lambda i: (book.items[i].due_date, i))
    return Match(debtor_id, tuple(ordered), "")


def _in_currency(book: Book, found: Match, currency: str, how: str) -> Match | Miss:
    """The match, unless the credit is in another currency than the invoices it names."""
    if any(book.items[i].currency != currency for i in found.invoice_ids):
        return Miss("currency", found.debtor_id)
    return Match(found.debtor_id, found.invoice_ids, how)


def _by_amount(book: Book, debtor_id: int, amount: Decimal, currency: str) -> Match | Miss:
    """The payer is known: certain when the amount is one open invoice's, or all that is open."""
    open_ids = [i for i in book.still_open(debtor_id) if book.items[i].currency == currency]
    exact = [i for i in open_ids if book.open[i] == amount]
    if exact:
        return Match(debtor_id, (exact[0],), "iban_amount")  # the oldest of equal invoices is paid first
    if open_ids and sum(book.open[i] for i in open_ids) == amount:
        return Match(debtor_id, tuple(open_ids), "iban_amount")
    return Miss("amount_differs", debtor_id)
