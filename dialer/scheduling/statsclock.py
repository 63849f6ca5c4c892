"""The nightly refresh: every dossier's stored priority recomputed once a day, as days overdue grow overnight."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from ..core.clock import utcnow
from ..dossiers.stats import refresh_stats

log = logging.getLogger(__name__)

JOB_ID = "belblok-dossier-stats"
NIGHTLY_AT = time(0, 10)  # just after local midnight: yesterday's "days overdue" are a day old by then


def refresh_all(engine: Engine, today: date, now: datetime) -> int:
    """Recompute every dossier's statistics in one transaction; rows written."""
    with engine.begin() as connection:
        return refresh_stats(connection, today, now)


class StatsClock:
    """An APScheduler cron job that refreshes all dossier statistics every night in the team's time zone."""

    def __init__(self, scheduler: BaseScheduler, engine: Engine, *, tz: str,
                 clock: Callable[[], datetime] = utcnow, at: time = NIGHTLY_AT) -> None:
        self.engine, self.zone, self.clock = engine, ZoneInfo(tz), clock
        self.job = scheduler.add_job(self.run, CronTrigger(hour=at.hour, minute=at.minute, timezone=self.zone),
                                     id=JOB_ID, replace_existing=True, coalesce=True, misfire_grace_time=3600,
                                     max_instances=1)

    def run(self) -> int:
        """Refresh now (APScheduler runs this in its thread pool, off the event loop)."""
        now = self.clock()
        try:
            rows = refresh_all(self.engine, now.astimezone(self.zone).date(), now)
        except Exception:  # tomorrow's run (or the next import) repairs it; the queue keeps yesterday's order
            log.exception("the nightly refresh of the dossier statistics failed")
            return 0
        log.info("nightly refresh: statistics of %d dossier(s) recomputed", rows)
        return rows
