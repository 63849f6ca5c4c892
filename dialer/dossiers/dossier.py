"""The dossier: everything known about one debtor, as the JSON the CLI and the API serve."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session, selectinload

from ..calllog.attempt import Attempt
from ..core.money import money_text
from .casework import Agreement, Complaint, Note
from .ledger import Invoice, Payment
from .parties import Contact, Debtor
from .wrapups import WrapUpRecord

NEW_CUSTOMER_DAYS = 365  # a customer of less than a year is "new" (handbook §6.7.1)
LATE_WINDOW_DAYS = 365
REPEAT_LATE_THRESHOLD = 2  # invoices paid or still open past their due date within the window
ATTEMPTS_SHOWN = 50


class UnknownDebtor(LookupError):
    """No debtor has that reference."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no debtor with reference {ref!r}")
        self.ref = ref


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def days_overdue(invoice: Invoice, today: date) -> int:
    """Days past the due date while something is still open; 0 otherwise."""
    if invoice.open_amount <= 0 or today <= invoice.due_date:
        return 0
    return (today - invoice.due_date).days


def paid_late(invoice: Invoice, last_payment: date | None, today: date) -> bool:
    """True if the invoice is open past its due date or its last payment (`last_payment`) came after it."""
    if days_overdue(invoice, today) > 0:
        return True
    return last_payment is not None and last_payment > invoice.due_date


def last_payments(payments: list[Payment]) -> dict[int, date]:
    """The date of the last payment on each invoice, by invoice id (one pass: big customers have thousands)."""
    last: dict[int, date] = {}
    for p in payments:
        if p.invoice_id is not None and (p.invoice_id not in last or p.date > last[p.invoice_id]):
            last[p.invoice_id] = p.date
    return last


def customer_type(debtor: Debtor, today: date) -> str:
    """'new' or 'regular' by customer_since; 'unknown' when it is not known."""
    if debtor.customer_since is None:
        return "unknown"
    return "new" if (today - debtor.customer_since).days < NEW_CUSTOMER_DAYS else "regular"


def load_debtor(session: Session, ref: str) -> Debtor:
    """The debtor with its contacts and phones, or UnknownDebtor."""
    debtor = session.scalar(
        select(Debtor).where(Debtor.ref == ref).options(selectinload(Debtor.contacts).selectinload(Contact.phones))
    )
    if debtor is None:
        raise UnknownDebtor(ref)
    return debtor


def covered_invoices(agreement: Agreement, number_of: dict[int, str]) -> list[str]:
    """The numbers of the invoices an agreement covers; one made without links names at most its one invoice."""
    linked = [inv.number for inv in agreement.invoices]
    if linked or agreement.invoice_id not in number_of:
        return linked
    return [number_of[agreement.invoice_id]]


def latest_wrapups(session: Session, attempt_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The last wrap-up saved for each of these attempts, as JSON, by attempt id."""
    rows = session.scalars(select(WrapUpRecord).where(WrapUpRecord.attempt_id.in_(attempt_ids))
                           .order_by(WrapUpRecord.id)) if attempt_ids else []
    return {w.attempt_id: {"id": w.id, "outcome": w.outcome, "escalation": w.escalation,
                           "agreement_id": w.agreement_id, "callback_id": w.callback_id, "agent": w.agent,
                           "created_at": w.created_at.isoformat()}
            for w in rows if w.attempt_id is not None}


def build_dossier(session: Session, ref: str, today: date) -> dict[str, Any]:
    """The whole dossier of debtor `ref` as JSON-ready data; `today` decides what is overdue."""
    debtor = load_debtor(session, ref)
    invoices = list(session.scalars(select(Invoice).where(Invoice.debtor_id == debtor.id)
                                    .order_by(Invoice.due_date, Invoice.number)))
    payments = list(session.scalars(select(Payment).where(Payment.debtor_id == debtor.id)
                                    .order_by(Payment.date.desc(), Payment.id.desc())))
    complaints = list(session.scalars(select(Complaint).where(Complaint.debtor_id == debtor.id)
                                      .options(selectinload(Complaint.invoices)).order_by(Complaint.id)))
    agreements = list(session.scalars(select(Agreement).where(Agreement.debtor_id == debtor.id)
                                      .options(selectinload(Agreement.instalments), selectinload(Agreement.invoices))
                                      .order_by(Agreement.id.desc())))
    attempts = list(session.scalars(select(Attempt).where(Attempt.debtor_ref == debtor.ref)
                                    .order_by(Attempt.id.desc()).limit(ATTEMPTS_SHOWN)))
    notes = list(session.scalars(select(Note).where(Note.debtor_id == debtor.id).order_by(Note.id.desc())))
    wrapups = latest_wrapups(session, [a.id for a in attempts])
    # The recording by id (the panel's address for it), never its path on the server. A table reference, as
    # the recordings' model lives above the dossiers.
    recordings = table("recordings", column("id"), column("attempt_id"))
    recording_of = dict(session.execute(select(recordings.c.attempt_id, recordings.c.id).where(
        recordings.c.attempt_id.in_([a.id for a in attempts]))).tuples().all()) if attempts else {}

    number_of = {inv.id: inv.number for inv in invoices}
    disputed = {inv.id for c in complaints if c.status == "open" for inv in c.invoices}
    window_start = today - timedelta(days=LATE_WINDOW_DAYS)
    last_paid = last_payments(payments)
    late = [inv for inv in invoices if inv.due_date >= window_start and paid_late(inv, last_paid.get(inv.id), today)]
    broken = sum(1 for a in agreements if a.status == "broken")
    open_invoices = [inv for inv in invoices if inv.open_amount > 0]
    total_open = sum((inv.open_amount for inv in open_invoices), Decimal("0.00"))
    currencies = sorted({inv.currency for inv in open_invoices}) or ["EUR"]

    return {
        "debtor": {
            "id": debtor.id, "ref": debtor.ref, "name": debtor.name, "kind": debtor.kind,
            "country": debtor.country, "region": debtor.region, "timezone": debtor.timezone,
            "customer_since": _iso(debtor.customer_since), "language": debtor.language,
            "do_not_call": debtor.do_not_call, "written_only": debtor.written_only, "insolvent": debtor.insolvent,
            "payment_day": debtor.payment_day, "income_note": debtor.income_note, "notes": debtor.notes,
            "policy": debtor.policy,
            "customer_type": customer_type(debtor, today),
            "total_open": money_text(total_open),
            "currency": currencies[0] if len(currencies) == 1 else None,
            "open_invoices": len(open_invoices),
            "max_days_overdue": max((days_overdue(inv, today) for inv in invoices), default=0),
            "late_invoices_last_year": len(late),
            "broken_agreements": broken,
            "repeat_late_payer": len(late) >= REPEAT_LATE_THRESHOLD or broken > 0,
        },
        "contacts": [
            {
                "id": c.id, "debtor_ref": debtor.ref, "name": c.name, "role": c.role, "email": c.email,
                "phone": c.phones[0].number if c.phones else None,
                "phone_label": c.phones[0].label if c.phones else None,
                "phones": [{"id": p.id, "number": p.number, "label": p.label, "kind": p.kind,
                            "refuses_anonymous": p.refuses_anonymous} for p in c.phones],
            }
            for c in debtor.contacts
        ],
        "invoices": [
            {
                "id": inv.id, "debtor_ref": debtor.ref, "number": inv.number, "date": _iso(inv.date),
                "due_date": _iso(inv.due_date), "amount": money_text(inv.amount),
                "open_amount": money_text(inv.open_amount), "currency": inv.currency,
                "delivered_on": _iso(inv.delivered_on), "delivery_method": inv.delivery_method,
                "description": inv.description, "days_overdue": days_overdue(inv, today),
                "disputed": inv.id in disputed,
            }
            for inv in invoices
        ],
        "payments": [
            {"id": p.id, "debtor_ref": debtor.ref, "invoice_number": number_of.get(p.invoice_id or -1),
             "date": _iso(p.date), "amount": money_text(p.amount), "reference": p.reference or None}
            for p in payments
        ],
        "complaints": [
            {"id": c.id, "status": c.status, "summary": c.summary, "opened_on": _iso(c.opened_on),
             "resolved_on": _iso(c.resolved_on), "invoices": [inv.number for inv in c.invoices]}
            for c in complaints
        ],
        "agreements": [
            {"id": a.id, "amount": money_text(a.amount), "due_date": _iso(a.due_date), "status": a.status,
             "invoice_number": number_of.get(a.invoice_id or -1),
             "conditional_on_complaint": a.conditional_on_complaint_id, "attempt_id": a.attempt_id,
             "agent": a.agent, "created_at": a.created_at.isoformat(),
             "discount_pct": str(a.discount_pct), "invoices": covered_invoices(a, number_of),
             "instalments": [{"seq": i.seq, "amount": money_text(i.amount), "due_date": _iso(i.due_date)}
                             for i in a.instalments]}
            for a in agreements
        ],
        "attempts": [{**_attempt(a), "recording_id": recording_of.get(a.id), "wrapup": wrapups.get(a.id)}
                     for a in attempts],
        "notes": [
            {"id": n.id, "text": n.text, "author": n.author, "created_at": n.created_at.isoformat(),
             "attempt_id": n.attempt_id}
            for n in notes
        ],
    }


def _attempt(attempt: Attempt) -> dict[str, Any]:
    """A call as the dossier shows it: its log row without the recording's server path."""
    row = {**attempt.to_json(), "direction": attempt.direction}
    del row["recording"]
    return row
