"""The unmatched payments list as a supervisor reads it: the bank's description, why, and the likely debtor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core.money import money_text
from ..dossiers.parties import Debtor
from ..dossiers.unmatched import STATUSES, UnmatchedPayment

SHOWN = 500  # rows on one page; the oldest open ones first, so nothing waits unseen


def unmatched_list(session: Session, status: str = "open", limit: int = SHOWN) -> dict[str, Any]:
    """The items of one status (or 'all'), oldest booking first, with counts and the open total."""
    if status not in (*STATUSES, "all"):
        raise ValueError(f"status must be one of {', '.join((*STATUSES, 'all'))}, not {status!r}")
    query = _listing().order_by(UnmatchedPayment.booked_on, UnmatchedPayment.id).limit(limit)
    if status != "all":
        query = query.where(UnmatchedPayment.status == status)
    counts = dict(session.execute(select(UnmatchedPayment.status, func.count())
                                  .group_by(UnmatchedPayment.status)).tuples().all())
    waiting = session.scalar(select(func.sum(UnmatchedPayment.amount)).where(UnmatchedPayment.status == "open"))
    return {"status": status, "items": _rows(session, query), "counts": {s: counts.get(s, 0) for s in STATUSES},
            "open_amount": money_text(waiting or Decimal("0.00"))}


def unmatched_item(session: Session, item_id: int) -> dict[str, Any] | None:
    """One item of the list, whatever its status."""
    found = _rows(session, _listing().where(UnmatchedPayment.id == item_id))
    return found[0] if found else None


def _listing() -> Any:
    """The list's rows with the suggested or assigned debtor's reference and name."""
    return (select(UnmatchedPayment, Debtor.ref, Debtor.name)
            .outerjoin(Debtor, Debtor.id == UnmatchedPayment.debtor_id))


def _rows(session: Session, query: Any) -> list[dict[str, Any]]:
    """The rows of `query` as JSON-ready dicts."""
    return [{"id": item.id, "booked_on": item.booked_on.isoformat(), "amount": money_text(item.amount),
             "currency": item.currency, "account": item.account, "counter_iban": item.counter_iban,
             "counter_name": item.counter_name, "reference": item.reference, "remittance": item.remittance,
             "entry_ref": item.entry_ref, "reason": item.reason, "status": item.status,
             "debtor_ref": ref, "debtor_name": name, "decided_by": item.decided_by,
             "decided_at": item.decided_at.isoformat() if item.decided_at else None, "source": item.source}
            for item, ref, name in session.execute(query)]
