"""The report metrics of docs/reports.md, each an aggregate over the call log, wrap-ups, promises and ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Connection, Engine

from ..calllog.attempt import Attempt
from ..dossiers.casework import Agreement
from ..dossiers.ledger import Invoice, Payment
from ..dossiers.wrapups import WrapUpRecord
from ..live.floor import StateInterval
from ..storage.columns import UTCDateTime
from ..wrapup.outcomes import with_flag
from .period import Period

KINDS = ("agents", "outcomes", "promises", "ageing")
BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole to four places; None when nothing was counted."""
    return round(part / whole, 4) if whole else None


def cents(column: Any) -> Any:
    """A money column as its stored whole cents (so SUM adds integers on every database)."""
    return type_coerce(column, BigInteger)


def euros(value: int | None) -> str:
    """Whole cents as the decimal text of the JSON ("1234.56")."""
    return str((Decimal(int(value or 0)) / 100).quantize(Decimal("0.01")))


def _agent_filter(column: Any, agent: str | None) -> Any:
    return column == agent if agent else literal(True)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for the reports' reads: on PostgreSQL without JIT compilation, for this transaction only."""
    with engine.connect() as connection:
        if _postgres(connection):
            # Each report's statements cost 0.1-2 s; compiling them (JIT) added 0.6-1.6 s to every one of them.
            connection.exec_driver_sql("SET LOCAL jit = off")
        yield connection


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _seconds(connection: Connection, later: Any, earlier: Any) -> Any:
    """later − earlier in seconds, computed by the database (PostgreSQL or SQLite)."""
    if _postgres(connection):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _days_after(connection: Connection, day: Any, days: int) -> Any:
    """A date column plus a whole number of days, in SQL."""
    return day + days if _postgres(connection) else func.date(day, f"+{days} days")


def outcomes(connection: Connection, period: Period, agent: str | None = None) -> list[dict[str, Any]]:
    """Per agent and for the team: calls placed and answered, contacts, right-party contacts, promises, rates."""
    flagged = {flag: with_flag(flag) for flag in ("contact", "right_party", "promise")}
    # One wrap-up per attempt counts (the last saved), so a corrected wrap-up does not count twice.
    last = (select(WrapUpRecord.attempt_id, func.max(WrapUpRecord.id).label("id"))
            .where(WrapUpRecord.attempt_id.is_not(None)).group_by(WrapUpRecord.attempt_id).subquery("last"))
    promised = (select(Agreement.attempt_id, func.sum(cents(Agreement.amount)).label("amount"))
                .where(Agreement.attempt_id.is_not(None)).group_by(Agreement.attempt_id).subquery("promised"))
    outcome = WrapUpRecord.outcome

    def flag(name: str) -> Any:
        return func.sum(case((outcome.in_(flagged[name]), 1), else_=0))

    query = (select(Attempt.agent, func.count(Attempt.id), func.count(Attempt.answered_at), flag("contact"),
                    flag("right_party"), flag("promise"), func.sum(promised.c.amount))
             .select_from(Attempt)
             .outerjoin(last, last.c.attempt_id == Attempt.id)
             .outerjoin(WrapUpRecord, WrapUpRecord.id == last.c.id)
             .outerjoin(promised, promised.c.attempt_id == Attempt.id)
             .where(Attempt.direction == "out", Attempt.created_at >= period.starts, Attempt.created_at < period.ends,
                    _agent_filter(Attempt.agent, agent))
             .group_by(Attempt.agent).order_by(Attempt.agent))
    rows = [_outcome_row(a, *(int(v or 0) for v in values)) for a, *values in connection.execute(query)]
    if len(rows) != 1 or agent is None:
        totals = [sum(r[k] for r in rows) for k in ("calls_placed", "calls_answered", "contacts",
                                                   "right_party_contacts", "promises")]
        amount = sum(int(Decimal(r["amount_promised"]) * 100) for r in rows)
        rows.append(_outcome_row(None, *totals, amount))
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
    made = connection.execute(
        select(Agreement.agent, func.count(Agreement.id), func.sum(cents(Agreement.amount)))
        .where(Agreement.created_at >= period.starts, Agreement.created_at < period.ends,
               _agent_filter(Agreement.agent, agent))
        .group_by(Agreement.agent)).all()
    # Per due promise, what was paid against it from the day it was made to its due date plus the grace days
    # (on its invoice, or on account anything of the debtor's), summed by the database: a year's promises are
    # hundreds of thousands, with their debtors' payments several times that.
    paid = func.coalesce(func.sum(cents(Payment.amount)), 0)
    against = (select(Agreement.agent.label("agent"), cents(Agreement.amount).label("amount"), paid.label("paid"))
               .select_from(Agreement)
               .outerjoin(Payment, and_(Payment.debtor_id == Agreement.debtor_id,
                                        Payment.date >= func.date(Agreement.created_at),
                                        Payment.date <= _days_after(connection, Agreement.due_date, grace_days),
                                        or_(Agreement.invoice_id.is_(None),
                                            Payment.invoice_id == Agreement.invoice_id)))
               .where(Agreement.due_date >= period.first, Agreement.due_date <= period.last,
                      Agreement.status != "cancelled", _agent_filter(Agreement.agent, agent))
               .group_by(Agreement.id, Agreement.agent, Agreement.amount).subquery("against"))
    due = connection.execute(
        select(against.c.agent, func.count(), func.sum(against.c.amount),
               func.sum(case((against.c.paid < against.c.amount, against.c.paid), else_=against.c.amount)),
               func.sum(case((against.c.paid >= against.c.amount, 1), else_=0)))
        .group_by(against.c.agent)).all()
    per: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for who, count, amount in made:
        per[who]["made"] += int(count)
        per[who]["amount_made"] += int(amount or 0)
    for who, count, amount, received, kept in due:
        per[who]["due"] += int(count)
        per[who]["amount_due"] += int(amount or 0)
        per[who]["received"] += int(received or 0)
        per[who]["kept"] += int(kept or 0)
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


def agents(connection: Connection, period: Period, now: datetime, agent: str | None = None
           ) -> list[dict[str, Any]]:
    """Per agent: time logged in, talking, wrapping up, paused (by code), waiting; calls and promises per hour."""
    end = min(period.ends, now)
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    # Each stretch clipped to the period and summed by the database, per agent, state and code: a month of a
    # floor is millions of stretches. Empty ones are left out, as a code seen only in them gets no column.
    until = literal(end, UTCDateTime())
    stop = (func.least if _postgres(connection) else func.min)(func.coalesce(StateInterval.ended_at, until), until)
    begin = (func.greatest if _postgres(connection) else func.max)(StateInterval.started_at,
                                                                   literal(period.starts, UTCDateTime()))
    for who, state, code, span in connection.execute(
            select(StateInterval.agent, StateInterval.state, StateInterval.code,
                   func.sum(_seconds(connection, stop, begin)))
            .where(StateInterval.started_at < end, or_(StateInterval.ended_at.is_(None),
                                                       StateInterval.ended_at > period.starts),
                   or_(StateInterval.ended_at.is_(None), StateInterval.ended_at > StateInterval.started_at),
                   StateInterval.state != "offline", _agent_filter(StateInterval.agent, agent))
            .group_by(StateInterval.agent, StateInterval.state, StateInterval.code)):
        seconds[who][state] += float(span)
        if state == "paused":
            seconds[who][f"pause:{code or 'none'}"] += float(span)
    calls = dict(connection.execute(
        select(Attempt.agent, func.count(Attempt.id)).where(
            Attempt.direction == "out", Attempt.created_at >= period.starts, Attempt.created_at < period.ends,
            _agent_filter(Attempt.agent, agent)).group_by(Attempt.agent)).all())
    made = dict(connection.execute(
        select(Agreement.agent, func.count(Agreement.id)).where(
            Agreement.created_at >= period.starts, Agreement.created_at < period.ends,
            _agent_filter(Agreement.agent, agent)).group_by(Agreement.agent)).all())
    names = sorted({n for n in (*seconds, *calls, *made) if n})
    codes = sorted({k.split(":", 1)[1] for s in seconds.values() for k in s if k.startswith("pause:")})
    return [_agent_row(n, seconds[n], int(calls.get(n, 0)), int(made.get(n, 0)), codes) for n in names]


def _agent_row(name: str, s: dict[str, float], calls: int, promised: int, codes: Iterable[str]) -> dict[str, Any]:
    logged = sum(v for k, v in s.items() if ":" not in k)
    working = logged - s["paused"]
    row: dict[str, Any] = {
        "agent": name, "logged_in_s": round(logged), "talk_s": round(s["talking"]), "wrap_up_s": round(s["wrap_up"]),
        "pause_s": round(s["paused"]), "wait_s": round(s["ready"]),
        "dialing_s": round(s["dialing"] + s["ringing"]), "calls": calls, "promises": promised,
        "calls_per_hour": round(calls / (logged / 3600), 2) if logged else None,
        "promises_per_working_hour": round(promised / (working / 3600), 2) if working > 0 else None}
    for code in codes:
        row[f"pause_{code}_s"] = round(s[f"pause:{code}"])
    return row

