"""Call-backs as the panel and the CLI use them: add (policy-checked), list, claim, finish, move, cancel."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..accounts.models import User
from ..blocks.block import Block
from ..blocks.model import load_blocks
from ..calllog.attempt import Attempt
from ..core.clock import utcnow
from ..dossiers.callbacks import Callback
from ..dossiers.dossier import UnknownDebtor, load_debtor
from ..dossiers.parties import Contact, Debtor
from ..policy.engine import Contact as LedgerEntry
from ..policy.engine import PolicyPack, combine, decide, earliest_allowed
from ..queue.load import debtor_pack as queue_pack
from ..queue.load import debtor_zone as queue_zone
from ..settings.config import Config
from .rules import return_deadline

log = logging.getLogger(__name__)

OPEN = ("pending", "claimed")
_RULE_WORDS = {
    "calling_window": "outside the debtor's calling window",
    "frequency_cap": "the debtor's call limit is reached",
    "cooldown": "the cool-down after a conversation is running",
}

Scheduled = Callable[[int, datetime], None]


class CallbackError(ValueError):
    """A call-back that cannot be made or changed as asked; the message says why."""


class UnknownAgent(CallbackError):
    """No user has that name."""


class UnknownCallback(CallbackError):
    """No call-back has that id."""


def debtor_zone(debtor: Debtor, cfg: Config) -> ZoneInfo:
    """The debtor's time zone as the queue reads it: their own, else their country's, else the team's."""
    return ZoneInfo(queue_zone(debtor.timezone, debtor.country, cfg.team.country, cfg.team.timezone))


def debtor_pack(debtor: Debtor, cfg: Config, contact_id: int | None = None) -> PolicyPack:
    """The contact policy for calls to the debtor (to one contact's numbers if given), as the queue checks it."""
    numbers: list[str | None] = [p.number for c in debtor.contacts if contact_id in (None, c.id) for p in c.phones]
    return combine(queue_pack(policy=debtor.policy, country=debtor.country, region=debtor.region, kind=debtor.kind,
                              number=number, team_policy=cfg.team.policy)
                   for number in dict.fromkeys(numbers or [None]))


def debtor_ledger(session: Session, debtor: Debtor) -> list[LedgerEntry]:
    """Every call placed to the debtor, as the policy engine reads them."""
    rows = session.execute(select(Attempt.created_at, Attempt.number, Attempt.sip_code, Attempt.answered_at,
                                  Attempt.caller_id_withheld).where(Attempt.debtor_ref == debtor.ref))
    return [LedgerEntry(at=at, number=number, sip_code=code, answered=answered is not None,
                        conversation=answered is not None, withheld=bool(withheld))
            for at, number, code, answered, withheld in rows]


def owner_of(session: Session, debtor_id: int) -> str | None:
    """Who owns a debtor now: the owner of an open appointment, else the agent of the latest call to them."""
    owner = session.scalar(select(Callback.agent).where(
        Callback.debtor_id == debtor_id, Callback.kind == "appointment", Callback.status.in_(OPEN),
        Callback.agent.is_not(None)).order_by(Callback.due_at).limit(1))
    if owner:
        return owner
    ref = select(Debtor.ref).where(Debtor.id == debtor_id).scalar_subquery()
    return session.scalar(select(Attempt.agent).where(Attempt.debtor_ref == ref, Attempt.agent.is_not(None))
                          .order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(1))


def check_agent(session: Session, agent: str | None) -> None:
    """Refuse an agent name that is not a user, once users exist."""
    if agent is None:
        return
    if not agent.strip():
        raise UnknownAgent("the agent name is empty")
    if session.scalar(select(User.id).limit(1)) is not None and \
            session.scalar(select(User.id).where(User.name == agent)) is None:
        raise UnknownAgent(f"no user named {agent!r}")


def _local(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def appointment_slot(session: Session, debtor: Debtor, at: datetime, *, cfg: Config, now: datetime,
                     contact_id: int | None = None) -> tuple[datetime, str | None]:
    """When an appointment asked for `at` can be kept: `at`, or the earliest moment the policy allows, and why."""
    if at.tzinfo is None:
        raise CallbackError("the appointment time needs a time zone")
    if at <= now:
        raise CallbackError(f"{at.astimezone(ZoneInfo(cfg.team.timezone)):%Y-%m-%d %H:%M} is in the past")
    zone = debtor_zone(debtor, cfg)
    pack = debtor_pack(debtor, cfg, contact_id)
    ledger = debtor_ledger(session, debtor)
    due = earliest_allowed(pack, tz=zone, ledger=ledger, not_before=at)
    if due == at:
        return due, None
    rules = decide(pack, tz=zone, ledger=ledger, now=at).rules
    why = "; ".join(_RULE_WORDS.get(rule, rule) for rule in rules) or "not allowed then"
    return due, f"{why} ({pack.name}): moved from {_local(at, zone)} to {_local(due, zone)}"[:255]


def place_appointment(session: Session, debtor: Debtor, at: datetime, *, cfg: Config, now: datetime,
                      agent: str | None = None, note: str | None = None, contact_id: int | None = None,
                      source_attempt_id: int | None = None, created_by: str | None = None) -> Callback:
    """Add an appointment at `at`, or at the earliest moment the debtor's policy allows (the caller commits)."""
    check_agent(session, agent)
    _check_contact(debtor, contact_id)
    due, reason = appointment_slot(session, debtor, at, cfg=cfg, now=now, contact_id=contact_id)
    row = Callback(debtor_id=debtor.id, kind="appointment", due_at=due, agent=agent, note=note or None,
                   status="pending", contact_id=contact_id, source_attempt_id=source_attempt_id, created_at=now,
                   created_by=created_by, requested_at=at if reason else None, moved_reason=reason)
    session.add(row)
    session.flush()
    return row


def place_return(session: Session, debtor: Debtor, *, now: datetime, agent: str | None = None,
                 note: str | None = None, contact_id: int | None = None, source_attempt_id: int | None = None,
                 created_by: str | None = None) -> Callback:
    """Add a same-day return call (terugbelverzoek) in `session`, due now (caller commits)."""
    _check_contact(debtor, contact_id)
    row = Callback(debtor_id=debtor.id, kind="return", due_at=now, agent=agent, note=note or None,
                   status="pending", contact_id=contact_id, source_attempt_id=source_attempt_id, created_at=now,
                   created_by=created_by)
    session.add(row)
    session.flush()
    return row


def _check_contact(debtor: Debtor, contact_id: int | None) -> None:
    if contact_id is not None and all(c.id != contact_id for c in debtor.contacts):
        raise CallbackError(f"contact {contact_id} is not one of {debtor.ref}")


def callback_json(row: Callback, debtor: Debtor | tuple[str, str], cfg: Config,
                  blocks: Sequence[Block] | None = None) -> dict[str, Any]:
    """A call-back as JSON: times in the team's zone with their offset; `requested`/`moved_reason` only if moved."""
    zone = ZoneInfo(cfg.team.timezone)
    ref, name = (debtor.ref, debtor.name) if isinstance(debtor, Debtor) else debtor
    data: dict[str, Any] = {
        "id": row.id, "kind": row.kind, "debtor": ref, "debtor_name": name,
        "due": row.due_at.astimezone(zone).isoformat(), "due_utc": row.due_at.isoformat(),
        "agent": row.agent, "status": row.status, "note": row.note, "contact_id": row.contact_id,
        "agreement_id": row.agreement_id, "created_at": row.created_at.isoformat(),
        "claimed_by": row.claimed_by, "done_at": row.done_at.isoformat() if row.done_at else None,
    }
    if row.requested_at is not None:
        data["requested"] = row.requested_at.astimezone(zone).isoformat()
        data["moved_reason"] = row.moved_reason
    if row.kind == "return":
        in_force = blocks if blocks is not None else [Block.of(b) for b in cfg.blocks]
        data["deadline"] = return_deadline(row.due_at, in_force, zone, cfg.team.country).astimezone(zone).isoformat()
    return data


class CallbackService:
    """Add, list and finish call-backs; every new or moved row is handed to `on_scheduled` (the scheduler)."""

    def __init__(self, sessions: sessionmaker[Session], cfg: Config, *, clock: Callable[[], datetime] = utcnow,
                 on_scheduled: Scheduled | None = None) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.clock = clock
        self.on_scheduled = on_scheduled

    def add_appointment(self, ref: str, at: datetime, *, agent: str | None = None, note: str | None = None,
                        contact_id: int | None = None, source_attempt_id: int | None = None,
                        created_by: str | None = None) -> dict[str, Any]:
        """A call-back appointment with debtor `ref` at `at` (moved into the policy window if need be)."""
        with self.sessions.begin() as session:
            debtor = _debtor(session, ref)
            row = place_appointment(session, debtor, at, cfg=self.cfg, now=self.clock(), agent=agent, note=note,
                                    contact_id=contact_id, source_attempt_id=source_attempt_id,
                                    created_by=created_by)
            data = callback_json(row, debtor, self.cfg)
        self._scheduled(row)
        return data

    def add_return(self, ref: str, *, agent: str | None = None, note: str | None = None,
                   contact_id: int | None = None, created_by: str | None = None) -> dict[str, Any]:
        """A return call asked for by debtor `ref`, due now, to be made before today's last block ends."""
        with self.sessions.begin() as session:
            debtor = _debtor(session, ref)
            check_agent(session, agent)
            row = place_return(session, debtor, now=self.clock(), agent=agent or owner_of(session, debtor.id),
                               note=note, contact_id=contact_id, created_by=created_by)
            data = callback_json(row, debtor, self.cfg, load_blocks(session, self.cfg.blocks))
        self._scheduled(row)
        return data

    def get(self, callback_id: int) -> dict[str, Any]:
        """One call-back by id."""
        with self.sessions() as session:
            row, debtor = self._row(session, callback_id)
            return callback_json(row, debtor, self.cfg, load_blocks(session, self.cfg.blocks))

    def list(self, *, agent: str | None = None, statuses: Sequence[str] | None = OPEN,
             kinds: Iterable[str] | None = None, debtor: str | None = None) -> list[dict[str, Any]]:
        """Call-backs by due time; open ones unless `statuses` says otherwise (None: all)."""
        stmt = select(Callback, Debtor.ref, Debtor.name).join(Debtor, Debtor.id == Callback.debtor_id)
        if statuses is not None:
            stmt = stmt.where(Callback.status.in_(tuple(statuses)))
        if agent is not None:
            stmt = stmt.where(Callback.agent == agent)
        if kinds is not None:
            stmt = stmt.where(Callback.kind.in_(tuple(kinds)))
        if debtor is not None:
            stmt = stmt.where(Debtor.ref == debtor)
        with self.sessions() as session:
            rows = session.execute(stmt.order_by(Callback.due_at, Callback.id)).all()
            blocks = load_blocks(session, self.cfg.blocks)
            return [callback_json(row, (ref, name), self.cfg, blocks) for row, ref, name in rows]

    def claim(self, callback_id: int, *, by: str) -> bool:
        """Take an open call-back for agent `by` (atomically); False if someone else has it or it is settled."""
        stmt = (update(Callback).where(Callback.id == callback_id, Callback.status.in_(OPEN),
                                       (Callback.agent.is_(None)) | (Callback.agent == by))
                .values(status="claimed", agent=by, claimed_by=by, claimed_at=self.clock())
                .execution_options(synchronize_session=False))
        with self.sessions.begin() as session:
            self._row(session, callback_id)
            return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def complete(self, callback_id: int, *, by: str | None = None) -> dict[str, Any]:
        """Mark a call-back done (the call was made)."""
        return self._settle(callback_id, "done", by)

    def cancel(self, callback_id: int, *, by: str | None = None) -> dict[str, Any]:
        """Cancel a call-back that is no longer needed."""
        return self._settle(callback_id, "cancelled", by)

    def move(self, callback_id: int, at: datetime, *, by: str | None = None) -> dict[str, Any]:
        """Move an open appointment to a new time (checked against the policy again); it is pending again."""
        with self.sessions.begin() as session:
            row, debtor = self._row(session, callback_id)
            if row.status not in OPEN or row.kind != "appointment":
                raise CallbackError(f"call-back {callback_id} is {row.status}; only open appointments can be moved")
            due, reason = appointment_slot(session, debtor, at, cfg=self.cfg, now=self.clock(),
                                           contact_id=row.contact_id)
            row.due_at, row.requested_at, row.moved_reason = due, at if reason else None, reason
            row.status, row.claimed_by, row.claimed_at, row.reminded_at = "pending", None, None, None
            session.flush()
            data = callback_json(row, debtor, self.cfg)
        self._scheduled(row)
        return data

    def _settle(self, callback_id: int, status: str, by: str | None) -> dict[str, Any]:
        now = self.clock()
        with self.sessions.begin() as session:
            row, debtor = self._row(session, callback_id)
            if row.status not in (*OPEN, "escalated"):
                raise CallbackError(f"call-back {callback_id} is already {row.status}")
            row.status, row.done_at = status, now
            if by and row.claimed_by is None:
                row.claimed_by, row.claimed_at = by, now
            return callback_json(row, debtor, self.cfg, load_blocks(session, self.cfg.blocks))

    def _row(self, session: Session, callback_id: int) -> tuple[Callback, Debtor]:
        row = session.get(Callback, callback_id)
        if row is None:
            raise UnknownCallback(f"no call-back {callback_id}")
        debtor = session.get(Debtor, row.debtor_id,
                             options=[selectinload(Debtor.contacts).selectinload(Contact.phones)])
        assert debtor is not None
        return row, debtor

    def _scheduled(self, row: Callback) -> None:
        if self.on_scheduled is None:
            return
        try:
            self.on_scheduled(row.id, row.due_at)
        except Exception:  # the row is committed: the scheduler's rescan will find it anyway
            log.exception("telling the scheduler about call-back %s failed", row.id)


def _debtor(session: Session, ref: str) -> Debtor:
    try:
        return load_debtor(session, ref)
    except UnknownDebtor as exc:
        raise CallbackError(str(exc)) from None
