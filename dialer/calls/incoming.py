"""Incoming calls: who is calling, and whether their agent takes it or it becomes a same-day return call."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from softphone.handle import CallHandle

from ..calllog.attempt import Attempt
from ..core.clock import utcnow
from ..core.numbers import InvalidNumber, normalise
from ..dossiers.parties import Contact, Debtor, Phone
from ..live.events import EventHub, LiveEvent
from ..scheduling.callbackservice import Scheduled, owner_of, place_return
from ..settings.config import Config
from .desk import CallTarget

if TYPE_CHECKING:
    from .desk import Switchboard

PutThrough = Callable[[str, CallTarget, CallHandle], Awaitable[str]]  # agent, caller, call → connected|unavailable|failed

log = logging.getLogger(__name__)

GREETINGS = {"nl": Path("config/return-call-nl.wav"), "en": Path("config/return-call-en.wav")}
_USER = re.compile(r"sips?:([^@;>\s]+)@", re.IGNORECASE)


def greeting_for(language: str) -> Path:
    """The recorded message an unanswered caller hears ("we call you back today"), by team language."""
    return GREETINGS.get(language, GREETINGS["en"])


def caller_number(remote: str, region: str) -> str | None:
    """The caller's number in E.164 from a SIP URI or From value ('"Piet" <sip:0612345678@pbx>'); None if hidden."""
    match = _USER.search(remote or "")
    if match is None:
        return None
    user = match.group(1)
    if user.lower() in ("anonymous", "restricted", "unknown", "unavailable"):
        return None
    try:
        return normalise(re.sub(r"[^\d+]", "", user) or user, region)
    except InvalidNumber:
        return None


def desk_busy(switchboard: Switchboard) -> Callable[[str], bool]:
    """Whether an agent's desk (in this coordinator) is on a call: for `IncomingCalls(busy=...)`."""
    return lambda agent: any(desk.agent == agent and desk.busy for desk in switchboard.desks())


@dataclass(frozen=True)
class Caller:
    """The debtor behind an incoming number, and the agent who owns them now."""

    debtor_id: int
    debtor_ref: str
    debtor_name: str
    contact_id: int
    contact_name: str
    owner: str | None


@dataclass(frozen=True)
class Decision:
    """What became of an incoming call: put through to the owner, a return call, or an unknown caller."""

    action: str  # to_agent | return_call | unknown
    number: str | None
    debtor_ref: str | None = None
    agent: str | None = None
    callback_id: int | None = None


class IncomingCalls:
    """A worker's `on_incoming`: matches the caller to a dossier and puts it through or books a return call."""

    def __init__(self, sessions: sessionmaker[Session], cfg: Config, hub: EventHub, *,
                 busy: Callable[[str], bool] | None = None, clock: Callable[[], datetime] = utcnow,
                 on_scheduled: Scheduled | None = None, put_through: PutThrough | None = None) -> None:
        self.sessions, self.cfg, self.hub, self.clock = sessions, cfg, hub, clock
        self.busy = busy or (lambda agent: False)
        self.on_scheduled = on_scheduled
        self.put_through = put_through
        self.decisions: list[Decision] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, handle: CallHandle) -> None:
        """Take an incoming call from the worker (called on the event loop; never raises)."""
        task = asyncio.ensure_future(self._safely(handle))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _safely(self, handle: CallHandle) -> None:
        try:
            await self.handle(handle.uri, handle)
        except Exception:  # the caller must hear something whatever went wrong here
            log.exception("incoming call from %s could not be handled", handle.uri)
            await self._route(handle, "greet")

    async def settled(self) -> None:
        """Wait until every incoming call taken so far has been handled."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def handle(self, remote: str, call: CallHandle | None = None) -> Decision:
        """Decide what happens to a call from `remote` and do it (`call`: the held call to route)."""
        now = self.clock()
        number = caller_number(remote, self.cfg.numbers.default_region)
        caller = await asyncio.to_thread(self._lookup, number) if number else None
        if caller is None or number is None:
            log.info("incoming call from an unknown or hidden number (%s): answered with the message", remote)
            await self._route(call, "greet")
            return self._decided(Decision("unknown", number))
        if caller.owner is not None and not self.busy(caller.owner):
            # The owner's panel opens the dossier while their phone rings.
            self.hub.publish(LiveEvent(agent=caller.owner, kind="incoming", at=now, debtor_ref=caller.debtor_ref,
                                       number=number, detail={"debtor_name": caller.debtor_name,
                                                              "contact": caller.contact_name}))
            if call is None:
                return self._decided(Decision("to_agent", number, caller.debtor_ref, caller.owner))
            status = "unavailable"
            if self.put_through is not None:
                target = CallTarget(number, debtor_ref=caller.debtor_ref, contact_ref=caller.contact_name)
                status = await self.put_through(caller.owner, target, call)
            if status == "connected":
                return self._decided(Decision("to_agent", number, caller.debtor_ref, caller.owner))
            if status == "unavailable":
                await self._route(call, "greet")
        else:
            await self._route(call, "greet")
        callback_id, due = await asyncio.to_thread(self._book_return, caller, number, now)
        if self.on_scheduled is not None:
            try:
                self.on_scheduled(callback_id, due)
            except Exception:
                log.exception("telling the scheduler about return call %s failed", callback_id)
        log.info("incoming call from %s (%s): owner %s busy or unknown, return call %s booked", number,
                 caller.debtor_ref, caller.owner, callback_id)
        return self._decided(Decision("return_call", number, caller.debtor_ref, caller.owner, callback_id))

    async def _route(self, call: CallHandle | None, action: str) -> None:
        """Route a held call; a caller who already hung up (or a worker gone) is no error here."""
        if call is None or call.ended:
            return
        try:
            await call.route(action)
        except Exception as exc:
            log.info("routing incoming call %s to %s failed: %s", call.ref, action, exc)

    def _decided(self, decision: Decision) -> Decision:
        self.decisions.append(decision)
        return decision

    def _lookup(self, number: str) -> Caller | None:
        with self.sessions() as session:
            rows = session.execute(select(Debtor, Contact).join(Contact, Contact.debtor_id == Debtor.id)
                                   .join(Phone, Phone.contact_id == Contact.id).where(Phone.number == number)
                                   .order_by(Debtor.id, Contact.id)).all()
            if not rows:
                return None
            debtor, contact = rows[0]
            if len({d.id for d, _ in rows}) > 1:
                # A number shared by several debtors (a bookkeeper's office): the one we called last from it.
                last = session.scalar(select(Attempt.debtor_ref).where(Attempt.number == number,
                                                                       Attempt.debtor_ref.is_not(None))
                                      .order_by(Attempt.created_at.desc()).limit(1))
                debtor, contact = next(((d, c) for d, c in rows if d.ref == last), rows[0])
            return Caller(debtor.id, debtor.ref, debtor.name, contact.id, contact.name, owner_of(session, debtor.id))

    def _book_return(self, caller: Caller, number: str, now: datetime) -> tuple[int, datetime]:
        local = now.astimezone(ZoneInfo(self.cfg.team.timezone))
        note = f"Terugbelverzoek: {caller.contact_name} ({number}) belde op {local:%d-%m-%Y} om {local:%H:%M}"
        with self.sessions.begin() as session:
            debtor = session.get(Debtor, caller.debtor_id,
                                 options=[selectinload(Debtor.contacts).selectinload(Contact.phones)])
            assert debtor is not None
            row = place_return(session, debtor, now=now, agent=caller.owner, note=note,
                               contact_id=caller.contact_id, created_by="incoming")
            return row.id, row.due_at
