"""The day book kept up: every night the days just settled are counted, and any missed while nothing ran."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.engine import Engine

from ..core.clock import utcnow
from . import figures
from .period import Period

log = logging.getLogger(__name__)
NIGHTLY_AT = time(1, 30)  # after the day has settled (figures.SETTLE)
CATCH_UP_DAYS = 35  # a chart's month and the days before it: what the reports pages ask for most
START_DELAY = timedelta(minutes=2)  # after start-up, once the coordinator has its calls under way


class DayBookKeeper:
    """APScheduler jobs that count the settled days of the last CATCH_UP_DAYS not yet in the day book."""

    def __init__(self, scheduler: BaseScheduler, engine: Engine, *, tz: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.zone, self.clock = engine, tz, clock
        options = {"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1}
        scheduler.add_job(self.run, CronTrigger(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, timezone=tz),
                          id="day-book", replace_existing=True, **options)
        scheduler.add_job(self.run, DateTrigger(clock() + START_DELAY), id="day-book-start", replace_existing=True,
                          **options)

    def run(self) -> int:
        """Count the missing days now (in APScheduler's thread pool, off the event loop); how many were kept."""
        now = self.clock()
        last = (now - figures.SETTLE).astimezone(ZoneInfo(self.zone)).date() - timedelta(days=1)
        period = Period(last - timedelta(days=CATCH_UP_DAYS - 1), last, self.zone)
        try:
            kept = figures.keep(self.engine, period, now)
        except Exception:  # a report counts what is missing itself; the next night tries again
            log.exception("keeping the day book failed")
            return 0
        if kept:
            log.info("day book: %d day(s) counted and kept", kept)
        return kept
