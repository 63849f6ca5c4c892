"""The wallboard's counters: the team's day so far, from the same aggregates as the reports."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from ..dossiers.callbacks import Callback
from ..dossiers.casework import Agreement
from ..queue.order import KINDS as QUEUE_KINDS
from ..queue.query import QueueQuery
from ..scheduling.promises import PAYMENT_SLACK_DAYS
from ..settings.config import Config
from . import metrics, tally
from .period import Period

QUEUE_SAMPLE = 500  # the queue is counted up to this many entries per refresh; more shows as "500+"


def team_day(connection: Connection, day: date, zone: str, now: datetime) -> dict[str, Any]:
    """Calls, contacts and promises of `day` so far, call-backs due and overdue, promises due and broken."""
    period = Period(day, day, zone)
    calls = metrics.outcomes(tally.calls(connection, period.starts, period.ends))[-1]
    pending = (Callback.status == "pending")
    overdue = connection.scalar(select(func.count(Callback.id)).where(pending, Callback.due_at < now))
    due = connection.scalar(select(func.count(Callback.id)).where(pending, Callback.due_at >= now,
                                                                  Callback.due_at < period.ends))
    promises_due = connection.scalar(select(func.count(Agreement.id)).where(
        Agreement.due_date == day, Agreement.status.not_in(("cancelled",))))
    # The sweeper judges a promise broken the day after its due date (plus the payment slack): that day's.
    broken = connection.scalar(select(func.count(Agreement.id)).where(
        Agreement.status == "broken", Agreement.due_date == day - timedelta(days=PAYMENT_SLACK_DAYS + 1)))
    return {"day": day.isoformat(), "calls_placed": calls["calls_placed"], "calls_answered": calls["calls_answered"],
            "contacts": calls["contacts"], "right_party_contacts": calls["right_party_contacts"],
            "promises": calls["promises"], "amount_promised": calls["amount_promised"],
            "contact_rate": calls["contact_rate"], "right_party_contact_rate": calls["right_party_contact_rate"],
            "callbacks_due": int(due or 0), "callbacks_overdue": int(overdue or 0),
            "promises_due_today": int(promises_due or 0), "promises_broken_today": int(broken or 0)}


def queue_sizes(cfg: Config, engine: Engine, now: datetime) -> dict[str, Any]:
    """The team's queue by kind (callback, return, follow_up, retry, new), counted up to QUEUE_SAMPLE."""
    queue = QueueQuery(cfg, engine).queue("", now, limit=QUEUE_SAMPLE)
    counts = Counter(entry.kind for entry in queue.entries)
    return {"kinds": {kind: counts.get(kind, 0) for kind in QUEUE_KINDS}, "total": len(queue.entries),
            "more": len(queue.entries) >= QUEUE_SAMPLE, "excluded": len(queue.excluded)}


def counters(cfg: Config, engine: Engine, now: datetime) -> dict[str, Any]:
    """Everything the wallboard counts, for the team's day at `now`."""
    zone = cfg.team.timezone
    day = now.astimezone(ZoneInfo(zone)).date()
    with engine.connect() as connection:
        today = team_day(connection, day, zone, now)
    return {**today, "queue": queue_sizes(cfg, engine, now), "at": now.isoformat()}
