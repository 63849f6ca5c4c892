"""The steps of a call-back scheduler pass (claim, remind, release, escalate) and when each is next due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..blocks.model import load_blocks
from ..dossiers.callbacks import Callback
from ..dossiers.tasks import Task
from ..live.events import LiveEvent
from ..live.presence import Presence
from ..settings.config import Config
from .firing import Alert, Outcome, debtor_names
from .rules import SEARCH_DAYS, return_deadline

OPEN = ("pending", "claimed")
_FIELDS = (Callback.id, Callback.kind, Callback.agent, Callback.debtor_id, Callback.due_at, Callback.note,
           Callback.agreement_id)


class CallbackSteps:
    """What a pass does to the rows: every step claims them atomically, so nothing fires twice."""

    def __init__(self, cfg: Config, presence: Presence, node: str, *, zone: ZoneInfo, remind: timedelta,
                 grace: timedelta, batch: int) -> None:
        self.cfg, self.presence, self.node, self.zone = cfg, presence, node, zone
        self.remind, self.grace, self.batch = remind, grace, batch

    def claim(self, session: Session, now: datetime) -> Outcome:
        """Claim what is due: the conditional UPDATE is the lock (SKIP LOCKED lets a second coordinator pass by)."""
        due = (Callback.status == "pending", Callback.due_at <= now)
        rows = session.execute(
            update(Callback).where(self._pick(session, due), *due)
            .values(status="claimed", claimed_by=self.node, claimed_at=now).returning(*_FIELDS)
            .execution_options(synchronize_session=False)).all()
        return self._outcome(session, rows, "callback_due", now)

    def remind_owners(self, session: Session, now: datetime) -> Outcome:
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

    def release(self, session: Session, now: datetime,
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

    def escalate(self, session: Session, now: datetime) -> Outcome:
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

    def next_due(self, session: Session, now: datetime, released_through: tuple[datetime, int] | None,
                 grace_from: datetime | None) -> datetime | None:
        """The next moment a step is due (None: nothing is); releases are checked up to `released_through`."""
        appointment = (Callback.kind == "appointment") & Callback.agent.is_not(None)
        moments: list[datetime] = []
        if (due := session.scalar(select(func.min(Callback.due_at)).where(Callback.status == "pending"))):
            moments.append(due)
        if self.remind and (first := session.scalar(select(func.min(Callback.due_at)).where(
                Callback.status == "pending", appointment, Callback.reminded_at.is_(None),
                Callback.due_at > now))):
            moments.append(first - self.remind)
        claimed = select(func.min(Callback.due_at)).where(Callback.status == "claimed", appointment)
        if released_through is not None:
            claimed = claimed.where(Callback.due_at > released_through[0])
        if (oldest := session.scalar(claimed)):
            moments.append(max(oldest + self.grace, grace_from or oldest))
        returns = session.scalars(select(Callback.due_at).where(*self._open_returns(now))).all()
        blocks = load_blocks(session, self.cfg.blocks) if returns else []
        moments += [return_deadline(due_at, blocks, self.zone, self.cfg.team.country) for due_at in returns]
        return min(moments, default=None)

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
