"""A bank statement as Belblok reads it: our account, its credits, and what was skipped; camt or MT940 alike."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ..core.identifiers import InvalidIdentifier, compact, parse_iban
from .errors import ImportErrorItem

KEY_LIMIT = 240  # natural keys longer than this are hashed (the column holds 255, payments add '#n')


@dataclass(frozen=True)
class Credit:
    """Money received on our account, as the bank describes it: who, how much, and with which reference."""

    key: str  # stable across re-imports of the same statement
    account: str
    booked_on: date
    amount: Decimal
    currency: str
    entry_ref: str  # the bank's reference of the entry (and transaction, in a batch)
    where: str  # element path or line, for messages
    counter_iban: str | None = None
    counter_name: str | None = None
    reference: str | None = None  # structured creditor reference, as given
    issuer: str | None = None  # whose scheme the reference is: BBA (Belgian OGM), CUR (Currence), ISO (RF)
    remittance: str = ""  # unstructured text
    batch: bool = False  # a batch booking whose parts the bank did not detail


@dataclass
class Statement:
    """What one file holds: its format, our account(s), the credits, and the entries not read as credits."""

    format: str  # camt.053, camt.054 or mt940
    credits: list[Credit] = field(default_factory=list)
    debits: int = 0
    skipped: int = 0  # pending or reversed entries
    accounts: set[str] = field(default_factory=set)


def natural_key(*parts: str) -> str:
    """The statement's key for one credit, hashed when too long for the column."""
    text = ":".join(parts)
    return text if len(text) <= KEY_LIMIT else parts[0] + ":sha256:" + hashlib.sha256(text.encode()).hexdigest()


def amount_of(text: str | None, where: str, errors: list[ImportErrorItem]) -> Decimal | None:
    """A positive amount with at most two decimals ('150.00'), else an error at `where`."""
    raw = (text or "").strip()
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value.as_tuple().exponent < -2 or not raw:
        errors.append(ImportErrorItem(None, where, f"{raw!r} is not an amount (digits, at most two decimals)"))
        return None
    if value > Decimal("999999999999.99"):
        errors.append(ImportErrorItem(None, where, f"{raw} is more than 999,999,999,999.99"))
        return None
    return value.quantize(Decimal("0.01"))


def account_of(text: str | None) -> str:
    """Our account as the key and the list show it: the IBAN if it is one, else the bank's text, compact."""
    raw = (text or "").strip()
    try:
        return parse_iban(raw)
    except InvalidIdentifier:
        return compact(raw)[:34] or "?"


def counter_iban_of(text: str | None) -> str | None:
    """The payer's IBAN when valid; a foreign account number that is not an IBAN is left out."""
    if not text or not text.strip():
        return None
    try:
        return parse_iban(text)
    except InvalidIdentifier:
        return None
