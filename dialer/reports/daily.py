"""The daily summary e-mail to the supervisors at `[reports] daily_at`, sent once a day whatever the coordinators."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Date, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..accounts.models import User
from ..core.clock import utcnow
from ..mail.mailer import Mailer, MailError, build_message
from ..settings.config import Config
from ..storage.base import Base
from ..storage.columns import UTCDateTime
from . import figures, metrics
from .period import Period

log = logging.getLogger(__name__)
NOON = time(12, 0)


class DailyMail(Base):
    """One row per day whose summary went out: the coordinator that inserts it first sends it."""

    __tablename__ = "report_mails"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    node: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


def reported_day(moment: datetime, cfg: Config) -> date:
    """The day a summary sent at `moment` is about: that day from noon on, the day before in the morning."""
    local = moment.astimezone(ZoneInfo(cfg.team.timezone))
    return local.date() if local.time() >= NOON else local.date() - timedelta(days=1)


def recipients(session: Session, cfg: Config) -> list[str]:
    """`[reports] recipients`, or every active supervisor and admin with an e-mail address."""
    if cfg.reports.recipients:
        return list(cfg.reports.recipients)
    query = select(User.email).where(User.role.in_(("supervisor", "admin")), User.email.is_not(None))
    return sorted({e for e in session.scalars(query) if e})


def summary(engine: Engine, cfg: Config, day: date, now: datetime) -> tuple[str, str]:
    """The subject and text of the summary of `day`."""
    period = Period(day, day, cfg.team.timezone)
    counted = figures.total(engine, period, now)
    calls, agents = metrics.outcomes(counted)[-1], metrics.agents(counted)
    with metrics.reading(engine) as connection:
        promised = metrics.promises(connection, period, cfg.reports.grace_days)[-1]
        book = metrics.ageing(connection, period)[-1]
    dutch = cfg.team.ui_language == "nl"

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value * 100:.1f} %"

    if dutch:
        subject = f"Belblok: dagoverzicht {day.isoformat()} ({cfg.team.name})"
        lines = [f"Gesprekken: {calls['calls_placed']}, beantwoord {calls['calls_answered']}, contact "
                 f"{calls['contacts']} ({pct(calls['contact_rate'])}), juiste persoon {calls['right_party_contacts']} "
                 f"({pct(calls['right_party_contact_rate'])})",
                 f"Betaalafspraken gemaakt: {promised['promises_made']} voor {promised['amount_promised']}; "
                 f"vandaag verlopen {promised['promises_due']}, nagekomen {promised['promises_kept']}",
                 f"Openstaand: {book['open_at_end']} ({book['invoices_at_end']} facturen)", "", "Per medewerker:"]
        per = "{agent}: {calls} gesprekken, {promises} afspraken, {hours} uur ingelogd"
    else:
        subject = f"Belblok: daily summary {day.isoformat()} ({cfg.team.name})"
        lines = [f"Calls: {calls['calls_placed']}, answered {calls['calls_answered']}, contacts {calls['contacts']} "
                 f"({pct(calls['contact_rate'])}), right party {calls['right_party_contacts']} "
                 f"({pct(calls['right_party_contact_rate'])})",
                 f"Promises made: {promised['promises_made']} for {promised['amount_promised']}; due today "
                 f"{promised['promises_due']}, kept {promised['promises_kept']}",
                 f"Open book: {book['open_at_end']} ({book['invoices_at_end']} invoices)", "", "Per agent:"]
        per = "{agent}: {calls} calls, {promises} promises, {hours} h logged in"
    lines += [per.format(agent=a["agent"], calls=a["calls"], promises=a["promises"],
                         hours=f"{a['logged_in_s'] / 3600:.1f}") for a in agents] or ["–"]
    return subject, "\n".join(lines) + "\n"


class DailyReport:
    """Arms the daily job on the coordinator's APScheduler and sends the summary once per day."""

    def __init__(self, engine: Engine, cfg: Config, mailer: Mailer | None, node: str, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.cfg, self.mailer, self.node, self.clock = engine, cfg, mailer, node, clock

    def arm(self, scheduler: BaseScheduler) -> bool:
        """Add the daily job if `[reports] daily_at` is set; whether it was."""
        if not self.cfg.reports.daily_at:
            return False
        hour, minute = (int(part) for part in self.cfg.reports.daily_at.split(":"))
        scheduler.add_job(self.send, CronTrigger(hour=hour, minute=minute, timezone=self.cfg.team.timezone),
                          id="daily-report", replace_existing=True, misfire_grace_time=3600, coalesce=True)
        return True

    async def send(self) -> bool:
        """Send today's summary unless another coordinator did; whether this one sent it."""
        now = self.clock()
        day = reported_day(now, self.cfg)
        claimed = await asyncio.to_thread(self._claim, day, now)
        if claimed is None:
            return False
        subject, body = await asyncio.to_thread(summary, self.engine, self.cfg, day, now)
        if self.mailer is None or not claimed:
            log.warning("daily summary of %s: nobody to send it to (set [reports] recipients or supervisors' "
                        "e-mail addresses)", day)
            return False
        message = build_message(self.cfg.smtp, to=", ".join(claimed), subject=subject, body=body,
                                language=self.cfg.team.ui_language)
        try:
            return await self.mailer.send(message)
        except MailError:
            log.exception("daily summary of %s could not be sent; another pass may try again", day)
            await asyncio.to_thread(self._unclaim, day)
            return False

    def _unclaim(self, day: date) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(DailyMail, day)
            if row is not None and row.node == self.node:
                session.delete(row)

    def _claim(self, day: date, now: datetime) -> list[str] | None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(DailyMail(day=day, node=self.node, sent_at=now))
                session.flush()
                return recipients(session, self.cfg)
        except IntegrityError:
            return None  # another coordinator sent it
