"""A supervisor's decision on an unmatched credit: it paid this debtor (and these invoices), or it is not ours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..dossiers.ledger import Invoice
from ..dossiers.parties import Debtor
from ..dossiers.unmatched import UnmatchedPayment
from ..settings.config import Config
from .booking import payment_rows, settle, write_payments


class AssignError(ValueError):
    """An assignment that cannot be made as asked; `field` names the input that is wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _open_item(session: Session, item_id: int) -> UnmatchedPayment:
    item = session.get(UnmatchedPayment, item_id, with_for_update=True)
    if item is None:
        raise AssignError(f"there is no unmatched payment {item_id}", "id")
    if item.status != "open":
        raise AssignError(f"unmatched payment {item_id} was already {item.status} by {item.decided_by}", "id")
    return item


def assign(session: Session, item_id: int, debtor_ref: str, invoice_numbers: Sequence[str], *, by: str,
           cfg: Config, now: datetime) -> tuple[UnmatchedPayment, list[int]]:
    """Book the credit as the debtor's payment into the invoices named (in that order; none: on account).

    The payer's IBAN is remembered on a debtor who had none, so the next credit from it matches by itself.
    Returns the item and the promises settled; the caller commits.
    """
    item = _open_item(session, item_id)
    debtor = session.scalar(select(Debtor).where(Debtor.ref == debtor_ref.strip()))
    if debtor is None:
        raise AssignError(f"there is no debtor with reference {debtor_ref.strip()!r}", "debtor_ref")
    invoices: list[Invoice] = []
    for number in dict.fromkeys(n.strip() for n in invoice_numbers if n.strip()):
        invoice = session.scalar(select(Invoice).where(Invoice.debtor_id == debtor.id, Invoice.number == number))
        if invoice is None:
            raise AssignError(f"{debtor.ref} has no invoice {number!r}", "invoices")
        if invoice.currency != item.currency:
            raise AssignError(f"invoice {number} is in {invoice.currency}, the payment in {item.currency}",
                              "invoices")
        invoices.append(invoice)
    left, parts, opens = item.amount, [], {}
    for invoice in invoices:
        share = min(left, invoice.open_amount)
        if share > 0:
            parts.append((invoice.id, share))
            opens[invoice.id] = invoice.open_amount - share
            left -= share
    session.flush()
    write_payments(session, payment_rows(item.natural_key, item.booked_on, item.entry_ref, debtor.id, parts,
                                         max(left, Decimal("0.00"))), opens)
    session.expire_all()  # the invoices' open amounts were written by Core statements
    item = session.get_one(UnmatchedPayment, item_id)
    debtor = session.get_one(Debtor, debtor.id)
    if debtor.iban is None and item.counter_iban:
        debtor.iban = item.counter_iban
    item.status, item.debtor_id, item.decided_by, item.decided_at = "assigned", debtor.id, by, now
    settled = settle(session, [debtor.id], cfg, now)
    return item, settled


def dismiss(session: Session, item_id: int, *, by: str, now: datetime) -> UnmatchedPayment:
    """Take a credit off the list as not a debtor's payment (a refund, a transfer between own accounts)."""
    item = _open_item(session, item_id)
    item.status, item.decided_by, item.decided_at = "dismissed", by, now
    session.flush()
    return item
