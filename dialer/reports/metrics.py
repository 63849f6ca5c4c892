"""The report metrics of docs/reports.md, each an aggregate over the call log, wrap-ups, promises and ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.engine import Connection, Engine

from ..dossiers.casework import Agreement
from ..dossiers.ledger import Invoice, Payment
from .period import Period
from .tally import CALL_FIGURES, Figures, cents, postgres, without_jit

KINDS = ("agents", "outcomes", "promises", "ageing")
BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole to four places; None when nothing was counted."""
    return round(part / whole, 4) if whole else None


def euros(value: int | None) -> str:
    """Whole cents as the decimal text of the JSON ("1234.56")."""
    return str((Decimal(int(value or 0)) / 100).quantize(Decimal("0.01")))


def _agent_filter(column: Any, agent: str | None) -> Any:
    return column == agent if agent else literal(True)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for the reports' reads: on PostgreSQL without JIT compilation, for this transaction only."""
    with engine.connect() as connection:
        without_jit(connection)
        yield connection


def _days_after(connection: Connection, day: Any, days: int) -> Any:
    """A date column plus a whole number of days, in SQL."""
    return day + days if postgres(connection) else func.date(day, f"+{days} days")


def outcomes(figures: Figures, agent: str | None = None) -> list[dict[str, Any]]:
    """Per agent and for the team: calls placed and answered, contacts, right-party contacts, promises, rates."""
    named = sorted(n for n, v in figures.items() if n and v.get("placed"))
    rows = [_outcome_row(n, *(int(figures[n].get(k, 0)) for k in CALL_FIGURES)) for n in named]
    if figures.get("", {}).get("placed"):  # calls without an agent (imported ones): last, as PostgreSQL sorts them
        rows.append(_outcome_row(None, *(int(figures[""].get(k, 0)) for k in CALL_FIGURES)))
    if len(rows) != 1 or agent is None:
        rows.append(_outcome_row(None, *(sum(int(v.get(k, 0)) for v in figures.values()) for k in CALL_FIGURES)))
    return rows


def _outcome_row(agent: str | None, placed: int, answered: int, contacts: int, right: int, promises: int,
                 amount: int) -> dict[str, Any]:
    return {"agent": agent, "calls_placed": placed, "calls_answered": answered, "contacts": contacts,
            "right_party_contacts": right, "promises": promises, "amount_promised": euros(amount),
            "contact_rate": rate(contacts, placed), "right_party_contact_rate": rate(right, placed),
            "promise_rate": rate(promises, right)}


def promises(connection: Connection, period: Period, grace_days: int, agent: str | None = None
             ) -> list[dict[str, Any]]:
    """Per agent and for the team: promises made, due, kept in full by their due date (+ grace), amounts."""
    return promise_steps(connection, [period], grace_days, agent)[0]


def promise_steps(connection: Connection, cuts: list[Period], grace_days: int, agent: str | None = None
                  ) -> list[list[dict[str, Any]]]:
    """The promises report for each of `cuts` (consecutive periods), in two statements whatever their number."""
    first, last = cuts[0], cuts[-1]
    made_in = case(*((and_(Agreement.created_at >= c.starts, Agreement.created_at < c.ends), i)
                     for i, c in enumerate(cuts)), else_=-1)
    made = connection.execute(
        select(made_in, Agreement.agent, func.count(Agreement.id), func.sum(cents(Agreement.amount)))
        .where(Agreement.created_at >= first.starts, Agreement.created_at < last.ends,
               _agent_filter(Agreement.agent, agent))
        .group_by(made_in, Agreement.agent)).all()
    # Per due promise, what was paid against it from the day it was made to its due date plus the grace days
    # (on its invoice, or on account anything of the debtor's), summed by the database: a year's promises are
    # hundreds of thousands, with their debtors' payments several times that.
    paid = func.coalesce(func.sum(cents(Payment.amount)), 0)
    due_in = case(*((and_(Agreement.due_date >= c.first, Agreement.due_date <= c.last), i)
                    for i, c in enumerate(cuts)), else_=-1)
    against = (select(due_in.label("cut"), Agreement.agent.label("agent"), cents(Agreement.amount).label("amount"),
                      paid.label("paid"))
               .select_from(Agreement)
               .outerjoin(Payment, and_(Payment.debtor_id == Agreement.debtor_id,
                                        Payment.date >= func.date(Agreement.created_at),
                                        Payment.date <= _days_after(connection, Agreement.due_date, grace_days),
                                        or_(Agreement.invoice_id.is_(None),
                                            Payment.invoice_id == Agreement.invoice_id)))
               .where(Agreement.due_date >= first.first, Agreement.due_date <= last.last,
                      Agreement.status != "cancelled", _agent_filter(Agreement.agent, agent))
               .group_by(Agreement.id, Agreement.agent, Agreement.amount, Agreement.due_date).subquery("against"))
    due = connection.execute(
        select(against.c.cut, against.c.agent, func.count(), func.sum(against.c.amount),
               func.sum(case((against.c.paid < against.c.amount, against.c.paid), else_=against.c.amount)),
               func.sum(case((against.c.paid >= against.c.amount, 1), else_=0)))
        .group_by(against.c.cut, against.c.agent)).all()
    per: list[dict[str | None, dict[str, int]]] = [defaultdict(lambda: defaultdict(int)) for _ in cuts]
    for cut, who, count, amount in made:
        if cut >= 0:
            per[cut][who]["made"] += int(count)
            per[cut][who]["amount_made"] += int(amount or 0)
    for cut, who, count, amount, received, kept in due:
        if cut >= 0:
            per[cut][who]["due"] += int(count)
            per[cut][who]["amount_due"] += int(amount or 0)
            per[cut][who]["received"] += int(received or 0)
            per[cut][who]["kept"] += int(kept or 0)
    return [_promise_rows(one, agent) for one in per]


def _promise_rows(per: dict[str | None, dict[str, int]], agent: str | None) -> list[dict[str, Any]]:
    rows = [_promise_row(who, values) for who, values in sorted(per.items(), key=lambda kv: kv[0] or "")]
    if agent is None or len(rows) != 1:
        team: dict[str, int] = defaultdict(int)
        for values in per.values():
            for key, value in values.items():
                team[key] += value
        rows.append(_promise_row(None, team))
    return rows


def _promise_row(agent: str | None, v: dict[str, int]) -> dict[str, Any]:
    return {"agent": agent, "promises_made": v["made"], "amount_promised": euros(v["amount_made"]),
            "promises_due": v["due"], "promises_kept": v["kept"], "promise_kept_rate": rate(v["kept"], v["due"]),
            "amount_due": euros(v["amount_due"]), "amount_received": euros(v["received"])}


def open_book(connection: Connection, on: date) -> dict[str, tuple[int, int]]:
    """The open book at the end of day `on`, per age bucket: (invoices, cents)."""
    later = (select(Payment.invoice_id, func.sum(cents(Payment.amount)).label("paid"))
             .where(Payment.invoice_id.is_not(None), Payment.date > on).group_by(Payment.invoice_id).subquery("later"))
    # Open then = open now + what was paid on it since (payments lower an invoice's open amount).
    open_then = cents(Invoice.open_amount) + func.coalesce(later.c.paid, 0)
    bucket = case((Invoice.due_date >= on, "not_due"), (Invoice.due_date >= on - timedelta(days=30), "1-30"),
                  (Invoice.due_date >= on - timedelta(days=60), "31-60"),
                  (Invoice.due_date >= on - timedelta(days=90), "61-90"), else_="90+")
    inner = (select(bucket.label("bucket"), open_then.label("open")).select_from(Invoice)
             .outerjoin(later, later.c.invoice_id == Invoice.id)
             .where(Invoice.date <= on, or_(Invoice.open_amount > 0, later.c.paid > 0)).subquery("book"))
    result = {b: (0, 0) for b in BUCKETS}
    for name, count, total in connection.execute(
            select(inner.c.bucket, func.count(), func.sum(inner.c.open)).where(inner.c.open > 0)
            .group_by(inner.c.bucket)):
        result[name] = (int(count), int(total or 0))
    return result


def ageing(connection: Connection, period: Period) -> list[dict[str, Any]]:
    """The open book by age bucket on the day before the period and on its last day, and the change."""
    before, after = open_book(connection, period.first - timedelta(days=1)), open_book(connection, period.last)
    rows = []
    for name in (*BUCKETS, "total"):
        if name == "total":
            b = tuple(sum(v[i] for v in before.values()) for i in (0, 1))
            a = tuple(sum(v[i] for v in after.values()) for i in (0, 1))
        else:
            b, a = before[name], after[name]
        rows.append({"bucket": name, "invoices_at_start": b[0], "open_at_start": euros(b[1]),
                     "invoices_at_end": a[0], "open_at_end": euros(a[1]), "change": euros(a[1] - b[1])})
    return rows


def agents(figures: Figures) -> list[dict[str, Any]]:
    """Per agent: time logged in, talking, wrapping up, paused (by code), waiting; calls and promises per hour."""
    names = sorted(n for n, v in figures.items() if n and any(v.values()))
    codes = sorted({k[2:] for n in names for k in figures[n] if k.startswith("p:")})
    return [_agent_row(n, figures[n], codes) for n in names]


def _agent_row(name: str, figures: dict[str, float], codes: Iterable[str]) -> dict[str, Any]:
    s: dict[str, float] = defaultdict(float, {k[2:]: v for k, v in figures.items() if k.startswith("s:")})
    calls, promised = int(figures.get("placed", 0)), int(figures.get("made", 0))
    logged = sum(s.values())
    working = logged - s["paused"]
    row: dict[str, Any] = {
        "agent": name, "logged_in_s": round(logged), "talk_s": round(s["talking"]), "wrap_up_s": round(s["wrap_up"]),
        "pause_s": round(s["paused"]), "wait_s": round(s["ready"]),
        "dialing_s": round(s["dialing"] + s["ringing"]), "calls": calls, "promises": promised,
        "calls_per_hour": round(calls / (logged / 3600), 2) if logged else None,
        "promises_per_working_hour": round(promised / (working / 3600), 2) if working > 0 else None}
    for code in codes:
        row[f"pause_{code}_s"] = round(figures.get(f"p:{code}", 0))
    return row

