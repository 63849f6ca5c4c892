"""The call-back scheduler: one timer derived from the database, every step claimed atomically when it fires.

The database is the source of truth. Instead of one APScheduler job per call-back the scheduler keeps a
single date job armed for the next moment anything is due (re-armed after each pass, and by `schedule`),
an interval job that re-reads the database (rows written by other processes) and an hourly promise sweep (in a
child process: `dialer.scheduling.sweeper`).
Each pass acts with conditional UPDATEs (`... WHERE status = 'pending' RETURNING`), so after a crash
nothing is lost (overdue steps run at start) and nothing fires twice, also with several coordinators.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..blocks.model import load_blocks
from ..core.clock import utcnow
from ..core.heap import collector_paused
from ..dossiers.callbacks import Callback
from ..live.events import EventHub
from ..live.presence import BEAT, Presence, default_node
from ..mail.mailer import Mailer, build_message
from ..settings.config import Config
from . import promises, sweeper
from .firing import Alert, Fired
from .rules import CallbackState, Step, local_day, return_deadline, steps_for
from .steps import OPEN, CallbackSteps

__all__ = ["BATCH", "MIN_GAP", "OPEN", "RECONNECT_S", "RESCAN_S", "CallbackScheduler"]

log = logging.getLogger(__name__)

RESCAN_S = 1.0  # how soon rows written by another process (the CLI, a second coordinator) are noticed
RECONNECT_S = 30.0  # after a start, panels get this long to reconnect before unattended appointments are released
MIN_GAP = timedelta(milliseconds=10)
BATCH = 500


class CallbackScheduler:
    """Reminds, announces, releases and escalates call-backs on time; rebuilt from the database at start."""

    def __init__(self, sessions: sessionmaker[Session], hub: EventHub, cfg: Config, *,
                 clock: Callable[[], datetime] = utcnow, scheduler: AsyncIOScheduler | None = None,
                 node: str | None = None, mailer: Mailer | None = None, rescan_s: float = RESCAN_S,
                 reconnect_s: float = RECONNECT_S, batch: int = BATCH) -> None:
        self.sessions, self.hub, self.cfg, self.clock = sessions, hub, cfg, clock
        self.node = (node or default_node())[:64]
        self.zone = ZoneInfo(cfg.team.timezone)
        self.remind = timedelta(minutes=cfg.callbacks.remind_minutes)
        self.grace = timedelta(minutes=cfg.callbacks.grace_minutes)
        self.rescan_s, self.reconnect, self.batch = rescan_s, timedelta(seconds=reconnect_s), batch
        self.mailer = mailer  # None: supervisors see the task and the live event, but get no e-mail
        self.armed_at: datetime | None = None
        self._own = scheduler is None
        self._aps = scheduler if scheduler is not None else AsyncIOScheduler(timezone=UTC)
        self._ids = {name: f"belblok-callbacks-{name}-{id(self):x}" for name in ("wake", "rescan", "sweep", "beat")}
        self.presence = Presence(sessions, hub, self.node, clock=clock)  # whose panels are open, on any coordinator
        self.steps = CallbackSteps(cfg, self.presence, self.node, zone=self.zone, remind=self.remind,
                                   grace=self.grace, batch=batch)
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._hints: list[datetime] = []
        self._grace_from: datetime | None = None
        self._released_through: tuple[datetime, int] | None = None  # release checks done up to (due_at, id)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild from the database: sweep promises, run what is overdue, arm the next timer."""
        self._loop = asyncio.get_running_loop()
        self._running = True
        self._grace_from = self.clock() + self.reconnect
        self._aps.add_job(self._rescan, IntervalTrigger(seconds=self.rescan_s), id=self._ids["rescan"],
                          replace_existing=True, max_instances=1, coalesce=True)
        self._aps.add_job(self._sweep_job, CronTrigger(minute=5, timezone=self.zone), id=self._ids["sweep"],
                          replace_existing=True, max_instances=1, coalesce=True, misfire_grace_time=3600)
        self._aps.add_job(self.presence.beat, IntervalTrigger(seconds=BEAT.total_seconds()), id=self._ids["beat"],
                          replace_existing=True, max_instances=1, coalesce=True)
        if self._own:
            self._aps.start()
        await asyncio.to_thread(self.presence.beat)
        await self.sweep()
        await self._tick()

    async def stop(self) -> None:
        """Remove this scheduler's jobs and wait for a pass (and its e-mails) to finish."""
        self._running = False
        for job in self._ids.values():
            try:
                self._aps.remove_job(job)
            except JobLookupError:
                pass
        async with self._lock:
            self.armed_at = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        await asyncio.to_thread(self.presence.leave)
        if self._own and self._aps.running:
            self._aps.shutdown(wait=False)

    def schedule(self, callback_id: int, due_at: datetime) -> None:
        """A row was added or moved (API, CLI, wrap-up): make sure the timer fires in time for it (thread-safe)."""
        first = due_at - self.remind if self.remind else due_at
        loop = self._loop
        if loop is None or loop.is_closed() or not self._running:
            return  # not running: start() reads the row from the database
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._hint(first)
        else:
            loop.call_soon_threadsafe(self._hint, first)

    def _hint(self, when: datetime) -> None:
        if not self._running:
            return
        self._hints.append(when)
        if self.armed_at is None or when < self.armed_at:
            self._arm(when)

    # -- one pass -------------------------------------------------------------------------------

    async def fire(self, now: datetime | None = None) -> Fired:
        """Act on everything due at `now` (default: the clock), publish the events and re-arm the timer."""
        async with self._lock:
            self._hints = []
            moment = now or self.clock()
            fired, wake = await asyncio.to_thread(self._pass, moment)
            for event in fired.events:
                self.hub.publish(event)
            candidates = [w for w in (wake, *self._hints) if w is not None]
            self._arm(max(min(candidates), moment + MIN_GAP) if candidates else None)
        for alert in fired.alerts:
            self._spawn(self._mail(alert))
        return fired

    async def _tick(self) -> None:
        try:
            await self.fire()
        except Exception:  # an APScheduler job: log, and the rescan job tries again
            log.exception("call-back scheduler pass failed on %s", self.node)

    async def _rescan(self) -> None:
        """Re-read the next moment from the database: rows other processes wrote get a timer too."""
        try:
            async with self._lock:
                now = self.clock()
                wake = await asyncio.to_thread(self.next_wake, now)
                stale = self.armed_at is None or self.armed_at <= now  # e.g. the last pass failed
                if wake is not None and (stale or wake < self.armed_at):  # type: ignore[operator]
                    self._arm(max(wake, now + MIN_GAP))
        except Exception:
            log.exception("call-back scheduler rescan failed on %s", self.node)

    def process(self, now: datetime) -> Fired:
        """The database part of a pass at `now`: one transaction of atomic conditional UPDATEs (blocking)."""
        fired = Fired()
        through = self._released_through
        with self.sessions.begin() as session:
            promises.settle_due_follow_ups(session, now, self.cfg)
            for action, step in (("due", self.steps.claim), ("reminded", self.steps.remind_owners)):
                while True:
                    outcome = step(session, now)
                    fired.add(action, outcome)
                    if len(outcome.ids) < self.batch:
                        break
            if self._grace_from is None or now >= self._grace_from:
                while True:
                    outcome, through, more = self.steps.release(session, now, through)
                    fired.add("released", outcome)
                    if not more:
                        break
            fired.add("escalated", self.steps.escalate(session, now))
        self._released_through = through  # only once the releases are committed
        if any((fired.due, fired.reminded, fired.released, fired.escalated)):
            log.info("%s at %s: due %d, reminded %d, released %d, escalated %d", self.node, now.isoformat(),
                     len(fired.due), len(fired.reminded), len(fired.released), len(fired.escalated))
        return fired

    def _pass(self, now: datetime) -> tuple[Fired, datetime | None]:
        fired = self.process(now)
        return fired, self.next_wake(now)

    # -- the timer --------------------------------------------------------------------------------

    def next_wake(self, now: datetime) -> datetime | None:
        """The next moment a step is due, from the database (None: nothing is scheduled)."""
        with self.sessions() as session:
            return self.steps.next_due(session, now, self._released_through, self._grace_from)

    def _arm(self, when: datetime | None) -> None:
        self.armed_at = when
        if when is None or not self._running:
            try:
                self._aps.remove_job(self._ids["wake"])
            except JobLookupError:
                pass
            return
        # The clock may be a test's: keep the distance to `when`, measured on the wall clock.
        run_date = utcnow() + max(when - self.clock(), timedelta(0))
        self._aps.add_job(self._tick, DateTrigger(run_date=run_date), id=self._ids["wake"], replace_existing=True,
                          max_instances=8, misfire_grace_time=None)

    def agenda(self) -> list[Step]:
        """Every step still to come for open call-backs, from the database (what the timers are derived from)."""
        with self.sessions() as session:
            rows = session.execute(select(Callback.id, Callback.kind, Callback.status, Callback.due_at,
                                          Callback.agent, Callback.reminded_at)
                                   .where(Callback.status.in_(("pending", "claimed")))).all()
            blocks = load_blocks(session, self.cfg.blocks)
        steps: list[Step] = []
        for row in rows:
            state = CallbackState(row.id, row.kind, row.status, row.due_at, row.agent, row.reminded_at is not None)
            deadline = return_deadline(row.due_at, blocks, self.zone, self.cfg.team.country) \
                if row.kind == "return" else None
            steps.extend(steps_for(state, remind=self.remind, grace=self.grace, deadline=deadline))
        return sorted(steps, key=lambda s: (s.when, s.callback_id, s.action))

    # -- promises and mail ----------------------------------------------------------------------

    async def sweep(self, today: Any = None, *, apart: bool = False) -> list[int]:
        """Settle promises (kept, broken, follow-ups, escalations) for `today` (default: the team's today)."""
        now = self.clock()
        day = today or local_day(now, self.zone)
        engine = self.sessions.kw.get("bind")
        # apart: in a child process (dialer.scheduling.sweeper) where the database allows, so the sweep's
        # Python work does not hold the GIL the event loop needs; if the child fails, here after all.
        if apart and isinstance(engine, Engine) and sweeper.shareable(engine):
            try:
                changed, pid = await sweeper.sweep_apart(engine, day, self.cfg, now=now)
            except (sweeper.SweepFailed, OSError) as exc:
                log.warning("promise sweep: %s; sweeping in the panel's process instead", exc)
            else:
                log.debug("promise sweep ran in process %d: %d agreements changed", pid, len(changed))
                return changed

        def run() -> list[int]:
            # Its tens of thousands of ORM objects live until the commit: collecting meanwhile only stops the loop.
            with collector_paused(), self.sessions.begin() as session:
                return promises.sweep(session, day, self.cfg, now=now)

        return await asyncio.to_thread(run)

    async def _sweep_job(self) -> None:
        try:
            if await self.sweep(apart=True):  # hourly, while agents work: off the event loop's GIL
                await self.fire()
        except Exception:
            log.exception("promise sweep failed on %s", self.node)

    async def _mail(self, alert: Alert) -> None:
        if self.mailer is None:
            log.info("no mailer: %s stays a task in the panel", alert.subject)
            return
        try:
            message = build_message(self.cfg.smtp, to=", ".join(alert.to), subject=alert.subject, body=alert.body,
                                    language=self.cfg.team.ui_language)
            await self.mailer.send(message)
        except Exception:
            log.exception("e-mail to the supervisors failed: %s", alert.subject)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

