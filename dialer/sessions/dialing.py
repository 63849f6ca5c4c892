"""Dialling one dossier now: the single path of `belblok dial`, dialling sessions and the panel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..blocks.block import Opening, current_block, next_block
from ..blocks.model import load_blocks
from ..calllog.attempt import Attempt
from ..calls.desk import CallTarget, Switchboard
from ..core.clock import utcnow
from ..dossiers.parties import Contact, Phone
from ..live.events import EventHub, LiveEvent
from ..queue.claims import claim, release
from ..queue.order import Entry, Exclusion
from ..queue.query import QueueQuery
from ..settings.config import Config

log = logging.getLogger(__name__)

OUTSIDE_BLOCK = "outside_block"
NOTHING_DUE = "nothing_due"


class DialRefused(Exception):
    """Nothing was dialled: the rule ids that refused it, and from when it would be allowed (if known)."""

    def __init__(self, ref: str, rules: tuple[str, ...], next_allowed: datetime | None = None) -> None:
        self.ref, self.rules, self.next_allowed = ref, rules, next_allowed
        when = f" (next allowed {next_allowed.isoformat()})" if next_allowed else ""
        super().__init__(f"refused: {', '.join(rules)}{when}")


@dataclass
class DialledCall:
    """A call under way: its attempt, the queue entry it came from, and a task that ends with the call."""

    attempt_id: int
    entry: Entry
    done: asyncio.Task[dict[str, Any]] = field(repr=False)  # the attempt's JSON once the call ended


class DossierDialer:
    """Decides again at the moment of dialling (block, flags, policy, retries, claim), then dials on the desk."""

    def __init__(self, cfg: Config, engine: Engine, switchboard: Switchboard, hub: EventHub, *,
                 clock: Callable[[], datetime] = utcnow, query: QueueQuery | None = None) -> None:
        self.cfg, self.engine, self.switchboard, self.hub, self.clock = cfg, engine, switchboard, hub, clock
        self.query = query or QueueQuery(cfg, engine)
        self._tasks: set[asyncio.Task[Any]] = set()

    def blocks_now(self, now: datetime) -> tuple[Opening | None, Opening | None]:
        """The block open at `now` and the next one to open (blocking: run it in a thread)."""
        with Session(self.engine) as session:
            blocks = load_blocks(session, self.cfg.blocks)
        team = self.cfg.team
        return (current_block(blocks, now, team.timezone, team.country),
                next_block(blocks, now, team.timezone, team.country))

    def check(self, ref: str, agent: str, now: datetime, *, in_block: bool | None = None) -> Entry:
        """The entry to dial for `ref` at `now`, or DialRefused with the rules (blocking; claims nothing)."""
        _, verdict = self.query.dossier(ref, agent, now)
        if verdict is None:
            raise DialRefused(ref, (NOTHING_DUE,))
        if isinstance(verdict, Exclusion):
            raise DialRefused(ref, verdict.rules, verdict.next_allowed)
        if in_block is None:
            current, coming = self.blocks_now(now)
            in_block = current is not None
        else:
            coming = None
        if not in_block and verdict.kind != "callback":  # an appointment is kept outside the blocks too
            raise DialRefused(ref, (OUTSIDE_BLOCK,), coming.opens if coming else None)
        return verdict

    async def dial(self, ref: str, agent: str, *, ring_timeout_s: float | None = None,
                   hangup_after_s: float | None = None, release_after: bool = True,
                   in_block: bool | None = None) -> DialledCall:
        """Claim the dossier, decide again, dial; DialRefused (logged and published) if any rule says no."""
        now = self.clock()
        try:
            entry = await asyncio.to_thread(self._claim_and_check, ref, agent, now, in_block)
        except DialRefused as refused:
            self.refused(agent, refused, now)
            raise
        desk = self.switchboard.desk(agent)
        target = CallTarget(entry.number, debtor_ref=entry.debtor, contact_ref=entry.contact,
                            withhold=entry.withhold_caller_id)
        try:
            attempt_id = await desk.dial(target, ring_timeout_s=ring_timeout_s, hangup_after_s=hangup_after_s)
        except BaseException:
            await asyncio.to_thread(release, self.engine, entry.debtor_id, agent)
            raise
        log.info("%s dials %s (%s) on %s, caller ID %s: attempt %s", agent, ref, entry.kind, entry.number,
                 "withheld" if entry.withhold_caller_id else "shown", attempt_id)
        done = asyncio.ensure_future(self._after(desk.wait_ended, attempt_id, entry, agent, release_after))
        self._tasks.add(done)
        done.add_done_callback(self._tasks.discard)
        return DialledCall(attempt_id, entry, done)

    def refused(self, agent: str, refused: DialRefused, now: datetime, number: str | None = None) -> None:
        """Log a refusal with its rules and tell the panel."""
        log.info("refused to dial %s for %s: %s", refused.ref, agent, refused)
        self.hub.publish(LiveEvent(agent=agent, kind="refused", at=now, debtor_ref=refused.ref, number=number,
                                   detail={"rules": list(refused.rules),
                                           "next_allowed": refused.next_allowed.isoformat()
                                           if refused.next_allowed else None}))

    def _claim_and_check(self, ref: str, agent: str, now: datetime, in_block: bool | None) -> Entry:
        facts, verdict = self.query.dossier(ref, agent, now)
        if not claim(self.engine, facts.id, agent, now=now, minutes=self.cfg.queue.claim_minutes):
            held = facts.claim.expires_at if facts.claim else None
            raise DialRefused(ref, ("claimed",), held)
        try:
            return self.check(ref, agent, now, in_block=in_block)  # after the claim: nobody else is deciding now
        except BaseException:
            release(self.engine, facts.id, agent)
            raise

    async def _after(self, ended: Callable[[], Any], attempt_id: int, entry: Entry, agent: str,
                     release_after: bool) -> dict[str, Any]:
        try:
            await ended()
            return await asyncio.to_thread(self.after_call, attempt_id, entry)
        finally:
            if release_after:
                await asyncio.to_thread(release, self.engine, entry.debtor_id, agent)

    def after_call(self, attempt_id: int, entry: Entry) -> dict[str, Any]:
        """Apply what the outcome teaches: a 433 marks the number as refusing anonymous calls; note the call."""
        with Session(self.engine) as session, session.begin():
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise KeyError(attempt_id)
            if attempt.outcome == "anonymity_rejected":
                contacts = select(Contact.id).where(Contact.debtor_id == entry.debtor_id)
                session.execute(update(Phone).where(Phone.number == attempt.number, Phone.contact_id.in_(contacts))
                                .values(refuses_anonymous=True).execution_options(synchronize_session=False))
                log.info("%s refuses anonymous calls (433): its next call presents the caller ID", attempt.number)
            return attempt.to_json()  # the dossier's last call was noted when the call log journalled its end
