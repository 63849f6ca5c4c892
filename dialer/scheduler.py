"""The call-back scheduler: one timer derived from the database, every step claimed atomically when it fires.

The database is the source of truth. Instead of one APScheduler job per call-back the scheduler keeps a
single date job armed for the next moment anything is due (re-armed after each pass, and by `schedule`),
an interval job that re-reads the database (rows written by other processes) and an hourly promise sweep.
Each pass acts with conditional UPDATEs (`... WHERE status = 'pending' RETURNING`), so after a crash
nothing is lost (overdue steps run at start) and nothing fires twice, also with several coordinators.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker

from . import promises
from .accounts import User
from .blockmodel import load_blocks
from .callbacks import Callback
from .clock import utcnow
from .config import Config
from .presence import BEAT, Presence, default_node
from .events import EventHub, LiveEvent
from .firing import Alert, Fired, Outcome, debtor_names
from .mailer import Mailer, build_message
from .schedulerules import SEARCH_DAYS, CallbackState, Step, local_day, return_deadline, steps_for
from .tasks import Task

log = logging.getLogger(__name__)

RESCAN_S = 1.0  # how soon rows written by another process (the CLI, a second coordinator) are noticed
RECONNECT_S = 30.0  # after a start, panels get this long to reconnect before unattended appointments are released
MIN_GAP = timedelta(milliseconds=10)
BATCH = 500
OPEN = ("pending", "claimed")
_FIELDS = (Callback.id, Callback.kind, Callback.agent, Callback.debtor_id, Callback.due_at, Callback.note,
           Callback.agreement_id)


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
            for action, step in (("due", self._claim), ("reminded", self._remind)):
                while True:
                    outcome = step(session, now)
                    fired.add(action, outcome)
                    if len(outcome.ids) < self.batch:
                        break
            if self._grace_from is None or now >= self._grace_from:
                while True:
                    outcome, through, more = self._release(session, now, through)
                    fired.add("released", outcome)
                    if not more:
                        break
            fired.add("escalated", self._escalate(session, now))
        self._released_through = through  # only once the releases are committed
        if any((fired.due, fired.reminded, fired.released, fired.escalated)):
            log.info("%s at %s: due %d, reminded %d, released %d, escalated %d", self.node, now.isoformat(),
                     len(fired.due), len(fired.reminded), len(fired.released), len(fired.escalated))
        return fired

    def _pass(self, now: datetime) -> tuple[Fired, datetime | None]:
        fired = self.process(now)
        return fired, self.next_wake(now)

    def _claim(self, session: Session, now: datetime) -> Outcome:
        """Claim what is due: the conditional UPDATE is the lock (SKIP LOCKED lets a second coordinator pass by)."""
        due = (Callback.status == "pending", Callback.due_at <= now)
        rows = session.execute(
            update(Callback).where(self._pick(session, due), *due)
            .values(status="claimed", claimed_by=self.node, claimed_at=now).returning(*_FIELDS)
            .execution_options(synchronize_session=False)).all()
        return self._outcome(session, rows, "callback_due", now)

    def _remind(self, session: Session, now: datetime) -> Outcome:
        """Remind owners of appointments due within `remind_minutes` (once: `reminded_at`)."""
        if not self.remind:
            return Outcome()
        soon = (Callback.status == "pending", Callback.due_at > now, Callback.due_at <= now + self.remind,
                Callback.kind == "appointment", Callback.agent.is_not(None), Callback.reminded_at.is_(None))
        rows = session.execute(
            update(Callback).where(self._pick(session, soon), *soon)
            .values(reminded_at=now).returning(*_FIELDS).execution_options(synchronize_session=False)).all()
        return self._outcome(session, rows, "reminder", now)

    def _pick(self, session: Session, conditions: tuple[Any, ...]) -> Any:
        """Which rows one UPDATE may take: PostgreSQL locks a batch and skips rows another coordinator holds."""
        if session.get_bind().dialect.name != "postgresql":
            # SQLite has one writer at a time; a plain range keeps the UPDATE on the (status, due_at) index
            # (with `id IN (subquery)` it scans every pending row).
            return and_(*conditions)
        pick = (select(Callback.id).where(*conditions).order_by(Callback.due_at, Callback.id).limit(self.batch)
                .with_for_update(skip_locked=True))
        return Callback.id.in_(pick.scalar_subquery())

    def _release(self, session: Session, now: datetime,
                 through: tuple[datetime, int] | None) -> tuple[Outcome, tuple[datetime, int] | None, bool]:
        """Appointments `grace_minutes` past due whose owner has no panel open go to anyone (agent = None)."""
        query = select(Callback.id, Callback.agent, Callback.due_at).where(
            Callback.kind == "appointment", Callback.status == "claimed", Callback.agent.is_not(None),
            Callback.due_at <= now - self.grace)
        if through is not None:
            due, last = through
            query = query.where(or_(Callback.due_at > due, and_(Callback.due_at == due, Callback.id > last)))
        rows = session.execute(query.order_by(Callback.due_at, Callback.id).limit(self.batch)).all()
        outcome = Outcome()
        absent: dict[str, list[int]] = {}
        for row in rows:
            if not self.presence.present(session, row.agent, now):  # here or on another coordinator
                absent.setdefault(row.agent, []).append(row.id)
        for owner, ids in absent.items():
            released = session.execute(
                update(Callback).where(Callback.id.in_(ids), Callback.status == "claimed", Callback.agent == owner)
                .values(agent=None).returning(*_FIELDS).execution_options(synchronize_session=False)).all()
            done = self._outcome(session, released, "callback_released", now, agent="*", owner=owner)
            outcome.ids += done.ids
            outcome.events += done.events
        if rows:
            through = (rows[-1].due_at, rows[-1].id)
        return outcome, through, len(rows) == self.batch

    def _escalate(self, session: Session, now: datetime) -> Outcome:
        """Return calls still open when the day's last calling block has ended go to the supervisors."""
        rows = session.execute(select(*_FIELDS).where(*self._open_returns(now))).all()
        blocks = load_blocks(session, self.cfg.blocks) if rows else []
        overdue = [row for row in rows if return_deadline(row.due_at, blocks, self.zone, self.cfg.team.country) <= now]
        escalated: list[Row[Any]] = []
        for row in overdue:
            result: Any = session.execute(update(Callback).where(Callback.id == row.id, Callback.status.in_(OPEN))
                                          .values(status="escalated").execution_options(synchronize_session=False))
            if result.rowcount == 1:
                escalated.append(row)
        outcome = self._outcome(session, escalated, "return_call_overdue", now, agent="*")
        if not escalated:
            return outcome
        names = debtor_names(session, escalated)
        to = tuple(e for e in session.scalars(select(User.email).where(User.role == "supervisor",
                                                                        User.email.is_not(None))) if e)
        for row, event in zip(escalated, outcome.events):
            ref, name = names[row.debtor_id]
            asked = f"{row.due_at.astimezone(self.zone):%Y-%m-%d %H:%M}"
            task = Task(kind="return_call_overdue", status="open", debtor_id=row.debtor_id, role="supervisor",
                        title=f"Return call to {ref} ({name}) not made the same day"[:255],
                        detail=f"call-back {row.id} asked for at {asked}, owner {row.agent or 'anyone'}"
                               + (f": {row.note}" if row.note else ""),
                        created_at=now, created_by=self.node)
            session.add(task)
            session.flush()
            event.detail["task_id"] = task.id
            if to:
                outcome.alerts.append(Alert(to, f"Belblok: return call to {ref} ({name}) is overdue",
                                            f"{ref} ({name}) asked to be called back at {asked}; nobody did "
                                            f"before the last calling block ended.\nTask {task.id} in Belblok."))
        return outcome

    @staticmethod
    def _open_returns(now: datetime) -> tuple[Any, ...]:
        # Bounded by due time so the (status, due_at) index is used: a return call is due when it is asked
        # for (a later one is woken for by its due step) and its deadline is at most SEARCH_DAYS after.
        return (Callback.kind == "return", Callback.status.in_(OPEN), Callback.due_at <= now,
                Callback.due_at > now - timedelta(days=SEARCH_DAYS + 1))

    def _outcome(self, session: Session, rows: Sequence[Row[Any]], kind: str, now: datetime, *,
                 agent: str | None = None, owner: str | None = None) -> Outcome:
        names = debtor_names(session, rows)
        events = []
        for row in rows:
            ref, name = names[row.debtor_id]
            detail = {"callback_id": row.id, "kind": row.kind, "due": row.due_at.astimezone(self.zone).isoformat(),
                      "note": row.note, "debtor_name": name, "agreement_id": row.agreement_id,
                      "owner": owner or row.agent}
            events.append(LiveEvent(agent=agent or row.agent or "*", kind=kind, at=now, debtor_ref=ref,
                                    detail=detail))
        return Outcome([row.id for row in rows], events)

    # -- the timer --------------------------------------------------------------------------------

    def next_wake(self, now: datetime) -> datetime | None:
        """The next moment a step is due, from the database (None: nothing is scheduled)."""
        appointment = (Callback.kind == "appointment") & Callback.agent.is_not(None)
        moments: list[datetime] = []
        with self.sessions() as session:
            if (due := session.scalar(select(func.min(Callback.due_at)).where(Callback.status == "pending"))):
                moments.append(due)
            if self.remind and (first := session.scalar(select(func.min(Callback.due_at)).where(
                    Callback.status == "pending", appointment, Callback.reminded_at.is_(None),
                    Callback.due_at > now))):
                moments.append(first - self.remind)
            claimed = select(func.min(Callback.due_at)).where(Callback.status == "claimed", appointment)
            if self._released_through is not None:
                claimed = claimed.where(Callback.due_at > self._released_through[0])
            if (oldest := session.scalar(claimed)):
                moments.append(max(oldest + self.grace, self._grace_from or oldest))
            returns = session.scalars(select(Callback.due_at).where(*self._open_returns(now))).all()
            blocks = load_blocks(session, self.cfg.blocks) if returns else []
            moments += [return_deadline(due_at, blocks, self.zone, self.cfg.team.country) for due_at in returns]
        return min(moments, default=None)

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

    async def sweep(self, today: Any = None) -> list[int]:
        """Settle promises (kept, broken, follow-ups, escalations) for `today` (default: the team's today)."""
        now = self.clock()
        day = today or local_day(now, self.zone)

        def run() -> list[int]:
            with self.sessions.begin() as session:
                return promises.sweep(session, day, self.cfg, now=now)

        return await asyncio.to_thread(run)

    async def _sweep_job(self) -> None:
        try:
            if await self.sweep():
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

