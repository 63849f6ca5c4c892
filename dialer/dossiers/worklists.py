"""Lists for the panel: dossiers to work (search), a dossier's agenda, open tasks, sent e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..core.money import money_text
from .callbacks import Callback
from .correspondence import SentEmail
from .ledger import Invoice
from .parties import Debtor
from .tasks import Task

LIMIT = 50


@dataclass(frozen=True)
class DossierRow:
    """One line of the work list."""

    ref: str
    name: str
    kind: str
    country: str
    total_open: Decimal
    open_invoices: int
    max_days_overdue: int
    do_not_call: bool
    below_min_amount: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ref": self.ref, "name": self.name, "kind": self.kind, "country": self.country,
                "total_open": money_text(self.total_open), "open_invoices": self.open_invoices,
                "max_days_overdue": self.max_days_overdue, "do_not_call": self.do_not_call,
                "below_min_amount": self.below_min_amount}


def search(session: Session, query: str, *, today: date, min_amount: Decimal, limit: int = LIMIT) -> list[DossierRow]:
    """Debtors whose reference starts with or whose name contains `query` (all when empty), by reference."""
    stmt = select(Debtor.id, Debtor.ref, Debtor.name, Debtor.kind, Debtor.country, Debtor.do_not_call)
    text = query.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Debtor.ref == text, Debtor.ref.like(text.replace("%", "") + "%"),
                              func.lower(Debtor.name).like(pattern.lower(), escape="\\")))
    debtors = list(session.execute(stmt.order_by(Debtor.ref).limit(limit)))
    ids = [d.id for d in debtors]
    totals: dict[int, tuple[Decimal, int, date | None]] = {}
    if ids:
        rows = session.execute(
            select(Invoice.debtor_id, Invoice.open_amount, Invoice.due_date)
            .where(Invoice.debtor_id.in_(ids), Invoice.open_amount > 0))
        for debtor_id, amount, due in rows:
            total, count, earliest = totals.get(debtor_id, (Decimal("0.00"), 0, None))
            totals[debtor_id] = (total + amount, count + 1, due if earliest is None or due < earliest else earliest)
    result = []
    for d in debtors:
        total, count, earliest = totals.get(d.id, (Decimal("0.00"), 0, None))
        overdue = max(0, (today - earliest).days) if earliest else 0
        result.append(DossierRow(d.ref, d.name, d.kind, d.country, total, count, overdue, d.do_not_call,
                                 total < min_amount))
    return result


AGENDA_LIMIT = 20  # call-backs and tasks each, on a debtor's agenda


def agenda(session: Session, debtor_id: int) -> dict[str, list[dict[str, Any]]]:
    """Pending call-backs and open tasks of one debtor."""
    callbacks = session.scalars(select(Callback).where(Callback.debtor_id == debtor_id,
                                                       Callback.status.in_(("pending", "claimed")))
                                .order_by(Callback.due_at, Callback.id).limit(AGENDA_LIMIT))
    tasks = session.scalars(select(Task).where(Task.debtor_id == debtor_id, Task.status == "open")
                            .order_by(Task.id.desc()).limit(AGENDA_LIMIT))
    return {
        "callbacks": [{"id": c.id, "kind": c.kind, "due_at": c.due_at.isoformat(), "agent": c.agent, "note": c.note}
                      for c in callbacks],
        "tasks": [_task_json(t) for t in tasks],
    }


def _task_json(t: Task) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "title": t.title, "detail": t.detail, "agent": t.agent, "role": t.role,
            "created_at": t.created_at.isoformat(), "created_by": t.created_by, "debtor_id": t.debtor_id}


def open_tasks(session: Session, *, role: str | None = None, agent: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    """Open tasks for a role (e.g. the supervisors' escalations) or one agent, newest first, with the debtor."""
    stmt = select(Task, Debtor.ref, Debtor.name).outerjoin(Debtor, Debtor.id == Task.debtor_id) \
        .where(Task.status == "open")
    if role is not None:
        stmt = stmt.where(Task.role == role)
    if agent is not None:
        stmt = stmt.where(Task.agent == agent)
    return [{**_task_json(t), "debtor_ref": ref, "debtor_name": name}
            for t, ref, name in session.execute(stmt.order_by(Task.id.desc()).limit(limit))]


def recent_emails(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    """The e-mail we sent or tried to send, newest first."""
    rows = session.execute(select(SentEmail, Debtor.ref).outerjoin(Debtor, Debtor.id == SentEmail.debtor_id)
                           .order_by(SentEmail.id.desc()).limit(limit))
    return [{"id": e.id, "debtor_ref": ref, "agreement_id": e.agreement_id, "to": e.to_address, "subject": e.subject,
             "body": e.body, "language": e.language, "status": e.status, "error": e.error,
             "created_at": e.created_at.isoformat(), "sent_at": e.sent_at.isoformat() if e.sent_at else None}
            for e, ref in rows]
