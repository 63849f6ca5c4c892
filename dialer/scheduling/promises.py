"""Promises to pay (betalingsafspraken): kept or broken, the follow-up call, and escalation of repeat breakers.

The payment rule: a promise made on day M for amount A due on day D (restricted to one invoice when it names
one) is kept once the payments dated M ≤ date ≤ D + PAYMENT_SLACK_DAYS add up to A. With instalments each
due date is checked against the running total of the instalments up to it. A promise whose (first unpaid)
due date has passed without that is broken; its follow-up call is due on the first business day after the
due date (handbook §6.7.4). A payment entered late but dated in time turns a broken promise back into kept.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..core.money import CENT
from ..dossiers.callbacks import Callback
from ..dossiers.casework import Agreement, Complaint
from ..dossiers.ledger import Invoice, Payment
from ..dossiers.parties import Debtor
from ..dossiers.stats import refresh_stats
from ..dossiers.tasks import Task
from ..settings.config import Config
from ..storage import daybook
from .rules import first_business_day_after, follow_up_due, local_day, local_instant

PAYMENT_SLACK_DAYS = 0  # a payment dated after the due date does not keep the promise
CORRECTION_DAYS = 90  # how far back a late-entered payment can still turn a broken promise into a kept one
SWEEP_CHUNK = 10_000  # debtors per statement when a sweep is given their ids
DECISIONS = ("written_reminder", "collection_agency")
OPEN_CALLS = ("pending", "claimed")
WAITING = "waiting for the complaint to be resolved"
_AMOUNTS = (re.compile(r"^(?P<whole>\d+)(?:[.,](?P<fraction>\d{1,2}))?$"),
            re.compile(r"^(?P<whole>\d{1,3}(?:\.\d{3})+)(?:,(?P<fraction>\d{1,2}))?$"),
            re.compile(r"^(?P<whole>\d{1,3}(?:,\d{3})+)(?:\.(?P<fraction>\d{1,2}))?$"),
            re.compile(r"^(?P<whole>\d{1,3}(?: \d{3})+)(?:[.,](?P<fraction>\d{1,2}))?$"))
_AMBIGUOUS = re.compile(r"^\d{1,3}[.,]\d{3}$")  # 1.234 or 12,345: thousands or three decimals?


class PromiseError(ValueError):
    """A promise, payment or decision that cannot be recorded as given; the message says why."""


@dataclass(frozen=True)
class Paid:
    """One payment as the promise rule reads it."""

    on: date
    amount: Decimal
    invoice_id: int | None = None


@dataclass(frozen=True)
class Verdict:
    """Where a promise stands: open, kept or broken, and the due date that matters now (unpaid or missed)."""

    status: str
    due: date | None


def parse_amount(text: str) -> Decimal:
    """A positive amount written with '.' or ',' as decimal mark ('1234,56', '1.234,56', '1,234.56', '€ 50')."""
    value = text.replace("€", "").replace("EUR", "").strip()
    if _AMBIGUOUS.match(value):
        raise PromiseError(f"{text!r} is ambiguous: write {value.replace(',', '').replace('.', '')} "
                           f"or use two decimals")
    match = next((m for m in (pattern.match(value) for pattern in _AMOUNTS) if m), None)
    if match is None:
        raise PromiseError(f"{text!r} is not an amount (write e.g. 1234.56 or 1234,56)")
    whole, fraction = re.sub(r"\D", "", match["whole"]), match["fraction"] or "0"
    amount = Decimal(f"{whole}.{fraction}").quantize(CENT)
    if amount <= 0:
        raise PromiseError(f"{text!r}: the amount must be more than 0")
    return amount


def terms(agreement: Agreement) -> list[tuple[date, Decimal]]:
    """(due date, amount due by then in total) for each instalment, or the one due date."""
    if not agreement.instalments:
        return [(agreement.due_date, agreement.amount)]
    total, out = Decimal("0.00"), []
    for part in sorted(agreement.instalments, key=lambda i: i.seq):
        total += part.amount
        out.append((part.due_date, total))
    return out


def verdict(schedule: Sequence[tuple[date, Decimal]], payments: Iterable[Paid], *, made_on: date,
            invoice_id: int | None, today: date, waits_until: date | None = None) -> Verdict:
    """Judge a promise on `today` (pure): kept when every term is covered in time, broken once one was missed."""
    counted = [p for p in payments if p.on >= made_on and (invoice_id is None or p.invoice_id == invoice_id)]
    for due, amount in schedule:
        due = max(due, waits_until) if waits_until else due
        paid = sum((p.amount for p in counted if p.on <= due + timedelta(days=PAYMENT_SLACK_DAYS)), Decimal(0))
        if paid < amount:
            return Verdict("broken" if today > due + timedelta(days=PAYMENT_SLACK_DAYS) else "open", due)
    return Verdict("kept", None)


def sweep(session: Session, today: date, cfg: Config, *, now: datetime,
          debtor_ids: Iterable[int] | None = None) -> list[int]:
    """Settle promises idempotently (kept, broken, follow-ups, escalations); returns the agreements changed."""
    if debtor_ids is not None:
        ids = list(debtor_ids)
        if len(ids) > SWEEP_CHUNK:  # bound the IN list: PostgreSQL and SQLite cap the parameters of a statement
            return [a for i in range(0, len(ids), SWEEP_CHUNK)
                    for a in sweep(session, today, cfg, now=now, debtor_ids=ids[i:i + SWEEP_CHUNK])]
    conditions = [(Agreement.status == "open")
                  | ((Agreement.status == "broken") & (Agreement.due_date >= today - timedelta(days=CORRECTION_DAYS)))]
    if debtor_ids is not None:
        conditions.append(Agreement.debtor_id.in_(ids))
    stmt = select(Agreement).options(selectinload(Agreement.instalments)).where(*conditions)
    agreements = list(session.scalars(stmt.order_by(Agreement.debtor_id, Agreement.id)))
    payments: dict[int, list[Paid]] = {a.debtor_id: [] for a in agreements}
    calls: dict[int, list[Callback]] = {a.id: [] for a in agreements}
    if agreements:
        # The same selection as a subquery, not a list of ids: any number of promises in one statement.
        promised = select(Agreement.debtor_id).where(*conditions)
        for debtor_id, on, amount, invoice_id in session.execute(
                select(Payment.debtor_id, Payment.date, Payment.amount, Payment.invoice_id)
                .where(Payment.debtor_id.in_(promised))):
            payments[debtor_id].append(Paid(on, amount, invoice_id))
        # Every promise's follow-up calls in one statement too: one query per promise was 80 % of a sweep of
        # 20,000 open promises (bench/RESULTS.md, "Promise sweep").
        for call in session.scalars(select(Callback).where(
                Callback.kind == "follow_up", Callback.agreement_id.in_(select(Agreement.id).where(*conditions)))
                .order_by(Callback.id)):
            calls[call.agreement_id].append(call)  # type: ignore[index]
    changed = []
    for agreement in agreements:
        if _settle(session, agreement, payments[agreement.debtor_id], calls[agreement.id], today, cfg, now):
            changed.append(agreement.id)
    session.flush()
    return changed


def settle_due_follow_ups(session: Session, now: datetime, cfg: Config) -> list[int]:
    """Settle the promises whose follow-ups are due (a payment may have come in since the last sweep)."""
    debtors = list(session.scalars(select(Callback.debtor_id).distinct().where(
        Callback.status == "pending", Callback.kind == "follow_up", Callback.due_at <= now,
        Callback.agreement_id.is_not(None))))
    if not debtors:
        return []
    return sweep(session, local_day(now, ZoneInfo(cfg.team.timezone)), cfg, now=now, debtor_ids=debtors)


def _settle(session: Session, agreement: Agreement, paid: list[Paid], calls: list[Callback], today: date,
            cfg: Config, now: datetime) -> bool:
    """Judge one promise and bring its follow-up calls and escalation in line; `calls` are its follow-up calls."""
    tz = ZoneInfo(cfg.team.timezone)
    waits_until = None
    if agreement.conditional_on_complaint_id is not None:
        complaint = session.get(Complaint, agreement.conditional_on_complaint_id)
        if complaint is not None and complaint.status != "resolved":
            # Conditional on a complaint: nothing is due while it is open (handbook §6.7.3).
            return _cancel_calls(calls, WAITING) > 0
        if complaint is not None:
            waits_until = complaint.resolved_on
    judged = verdict(terms(agreement), paid, made_on=local_day(agreement.created_at, tz),
                     invoice_id=agreement.invoice_id, today=today, waits_until=waits_until)
    before = agreement.status
    if judged.status == "kept":
        agreement.status = "kept"
        _cancel_calls(calls, "promise kept")
        for task in session.scalars(select(Task).where(Task.agreement_id == agreement.id, Task.kind == "escalation",
                                                       Task.status == "open", Task.decision.is_(None))):
            task.status, task.detail = "cancelled", (task.detail or "") + "\npaid in time after all"
        return before != "kept"
    if before == "broken":
        return False  # followed up already; only a late-entered payment changes it
    assert judged.due is not None
    _ensure_follow_up(session, agreement, calls, judged.due, cfg, now)
    if judged.status == "broken":
        agreement.status = "broken"
        _escalate_if_repeated(session, agreement, now)
        return True
    return False


def _calls(session: Session, agreement: Agreement) -> list[Callback]:
    return list(session.scalars(select(Callback).where(Callback.agreement_id == agreement.id,
                                                       Callback.kind == "follow_up")))


def _cancel_calls(calls: list[Callback], why: str) -> int:
    count = 0
    for call in calls:
        if call.status in OPEN_CALLS:
            call.status, call.done_at = "cancelled", None
            call.note = f"{call.note}; {why}" if call.note else why
            count += 1
    return count


def _ensure_follow_up(session: Session, agreement: Agreement, calls: list[Callback], due: date, cfg: Config,
                      now: datetime) -> None:
    """One live follow-up on the first business day after `due` (a pending one is moved there, keeping its hour)."""
    tz = ZoneInfo(cfg.team.timezone)
    target = first_business_day_after(due, cfg.team.country)
    live = [c for c in calls if c.status != "cancelled"]
    waiting = [c for c in calls if c.status == "cancelled" and WAITING in (c.note or "")]
    if not live and waiting:  # the complaint is resolved: the follow-up it held back comes back
        call = waiting[-1]
        call.status, call.note = "pending", (call.note or "").replace(f"; {WAITING}", "").replace(WAITING, "") or None
        live = [call]
    for call in live:
        if call.status == "pending" and local_day(call.due_at, tz) != target:
            call.due_at = local_instant(target, call.due_at.astimezone(tz).time(), tz)
    if not calls:
        session.add(Callback(debtor_id=agreement.debtor_id, kind="follow_up", agent=agreement.agent,
                             status="pending", due_at=follow_up_due(due, cfg.team.country, tz),
                             contact_id=agreement.contact_id, agreement_id=agreement.id, created_at=now,
                             created_by="promises",
                             note=f"promise {agreement.id}: {agreement.amount} due {due.isoformat()}"))


def _escalate_if_repeated(session: Session, agreement: Agreement, now: datetime) -> None:
    """A second broken promise since the last kept one: a supervisor decides on a written reminder or an agency."""
    last_kept = session.scalar(select(Agreement.created_at).where(
        Agreement.debtor_id == agreement.debtor_id, Agreement.status == "kept")
        .order_by(Agreement.created_at.desc()).limit(1))
    broken = select(Agreement.id).where(Agreement.debtor_id == agreement.debtor_id, Agreement.status == "broken")
    if last_kept is not None:
        broken = broken.where(Agreement.created_at > last_kept)
    session.flush()
    ids = list(session.scalars(broken.order_by(Agreement.id)))
    if len(ids) < 2 or session.scalar(select(Task.id).where(Task.agreement_id == agreement.id,
                                                            Task.kind == "escalation")) is not None:
        return
    debtor = session.get(Debtor, agreement.debtor_id)
    assert debtor is not None
    session.add(Task(kind="escalation", status="open", debtor_id=debtor.id, role="supervisor",
                     agreement_id=agreement.id, created_at=now, created_by="promises",
                     title=f"Promise broken again: {debtor.ref} ({debtor.name}) — written reminder or "
                           f"collection agency?"[:255],
                     detail=f"broken promises since the last kept one: {', '.join(map(str, ids))}"))


def add_promise(session: Session, debtor: Debtor, amount: Decimal, due: date, *, cfg: Config, now: datetime,
                invoice_number: str | None = None, agent: str | None = None) -> tuple[Agreement, Callback | None]:
    """Record a promise to pay and its follow-up call (the caller commits)."""
    today = local_day(now, ZoneInfo(cfg.team.timezone))
    if due < today:
        raise PromiseError(f"the promised date {due.isoformat()} is in the past")
    invoice_id = invoice_of(session, debtor, invoice_number)
    agreement = Agreement(debtor_id=debtor.id, amount=amount, due_date=due, status="open", invoice_id=invoice_id,
                          agent=agent, created_at=now)
    if invoice_id is not None:  # the agreement's invoices, as the wrap-up links them
        agreement.invoices = [session.get_one(Invoice, invoice_id)]
    session.add(agreement)
    session.flush()
    daybook.forget(session.connection(), now)  # the agent's promises made that day
    sweep(session, today, cfg, now=now, debtor_ids=[debtor.id])
    follow = next((c for c in _calls(session, agreement) if c.status in OPEN_CALLS), None)
    return agreement, follow


def add_payment(session: Session, debtor: Debtor, amount: Decimal, on: date, *, cfg: Config, now: datetime,
                invoice_number: str | None = None, reference: str = "") -> tuple[Payment, list[int]]:
    """Record a payment (lowering its invoice's open amount) and settle the debtor's promises (the caller commits)."""
    invoice_id = invoice_of(session, debtor, invoice_number)
    payment = Payment(debtor_id=debtor.id, invoice_id=invoice_id, date=on, amount=amount, reference=reference,
                      natural_key=f"manual:{uuid.uuid4().hex}")
    session.add(payment)
    if invoice_id is not None:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        invoice.open_amount = max(Decimal("0.00"), invoice.open_amount - amount)
    session.flush()
    today = local_day(now, ZoneInfo(cfg.team.timezone))
    settled = sweep(session, today, cfg, now=now, debtor_ids=[debtor.id])
    refresh_stats(session.connection(), today, now, [debtor.id])  # the queue's stored priority
    return payment, settled


def invoice_of(session: Session, debtor: Debtor, number: str | None) -> int | None:
    """The id of the debtor's invoice `number` (None for none), or PromiseError."""
    if number is None:
        return None
    found = session.scalar(select(Invoice.id).where(Invoice.debtor_id == debtor.id, Invoice.number == number))
    if found is None:
        raise PromiseError(f"{debtor.ref} has no invoice {number!r}")
    return found


def decide_escalation(session: Session, task_id: int, decision: str, by: str, *, now: datetime) -> Task:
    """A supervisor's decision on an escalation: a written reminder or hand-over to a collection agency."""
    if decision not in DECISIONS:
        raise PromiseError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    task = session.get(Task, task_id)
    if task is None or task.kind != "escalation":
        raise PromiseError(f"no escalation task {task_id}")
    if task.decision is not None or task.status != "open":
        raise PromiseError(f"escalation {task_id} was already decided ({task.decision or task.status})")
    task.decision, task.decided_by, task.decided_at, task.status = decision, by, now, "done"
    debtor = session.get(Debtor, task.debtor_id) if task.debtor_id is not None else None
    name = f"{debtor.ref} ({debtor.name})" if debtor else "the debtor"
    title = {"written_reminder": f"Send a written reminder to {name}",
             "collection_agency": f"Hand over {name} to a collection agency"}[decision]
    session.add(Task(kind=decision, status="open", debtor_id=task.debtor_id, role="supervisor",
                     agreement_id=task.agreement_id, title=title[:255], detail=f"decided by {by} on task {task.id}",
                     created_at=now, created_by=by))
    session.flush()
    return task
