"""The call queue: which dossier to call next, why, on which number, and which dossiers may not be called."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ..blocks.block import Opening
from ..policy.engine import Contact, PolicyError, PolicyPack, decide, earliest_allowed
from .contactchoice import choose
from .facts import DossierFacts, QueueRules
from .retry import (
    CONTACTED_TODAY,
    IN_CALL,
    RETRY_DELAY,
    RETRY_MAX_PER_DAY,
    RETRY_MAX_TOTAL,
    dead_numbers,
    retry_state,
    withhold_caller_id,
)

KINDS = ("callback", "return", "follow_up", "retry", "new")  # the order of the queue
RULES = ("do_not_call", "written_only", "insolvent", "dispute_open", "min_amount", "promise_running",
         "callback_scheduled", "appointment_owner", "claimed", IN_CALL, CONTACTED_TODAY, RETRY_DELAY,
         RETRY_MAX_PER_DAY, RETRY_MAX_TOTAL, "dnc_list", "no_number", "calling_window", "frequency_cap", "cooldown")
_EXPLICIT = ("callback", "return")  # the debtor asked for these calls: money and same-day rules do not hold them


@dataclass(frozen=True)
class Entry:
    """One dossier to call: whom, on which number, why, and with or without caller ID."""

    debtor: str
    debtor_id: int
    contact: str
    contact_id: int
    number: str
    kind: str
    due: datetime | None
    withhold_caller_id: bool
    reason: str
    name: str = ""
    role: str = ""
    callback_id: int | None = None
    agreement_id: int | None = None
    sort_key: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (times ISO 8601 UTC)."""
        return {"debtor": self.debtor, "contact": self.contact, "number": self.number, "kind": self.kind,
                "due": _iso(self.due), "withhold_caller_id": self.withhold_caller_id, "reason": self.reason,
                "name": self.name, "role": self.role, "callback_id": self.callback_id}


@dataclass(frozen=True)
class Exclusion:
    """A dossier that would be called but may not be: the rule ids that stop it, and from when it may."""

    debtor: str
    debtor_id: int
    rules: tuple[str, ...]
    next_allowed: datetime | None
    kind: str = ""  # what the call would have been
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"debtor": self.debtor, "rules": list(self.rules), "next_allowed": _iso(self.next_allowed),
                "kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class Queue:
    """The queue of one agent at one moment."""

    at: datetime
    agent: str
    entries: tuple[Entry, ...]
    excluded: tuple[Exclusion, ...]
    block: Opening | None = None

    @property
    def head(self) -> Entry | None:
        """The entry to call first."""
        return self.entries[0] if self.entries else None

    def to_json(self) -> dict[str, Any]:
        """The JSON of `belblok queue --json` and of the panel."""
        return {"at": self.at.isoformat(), "agent": self.agent,
                "block": self.block.to_json() if self.block else None,
                "entries": [e.to_json() for e in self.entries], "excluded": [x.to_json() for x in self.excluded]}


def build(dossiers: Iterable[DossierFacts], rules: QueueRules, now: datetime, *, block: Opening | None = None,
          limit: int | None = None) -> Queue:
    """Evaluate every dossier and order the result: call-backs, returns, follow-ups, retries, first calls."""
    return assemble((evaluate(d, rules, now) for d in dossiers), rules.agent, now, block=block, limit=limit)


def assemble(verdicts: Iterable[Entry | Exclusion | None], agent: str, now: datetime, *,
             block: Opening | None = None, limit: int | None = None) -> Queue:
    """The queue from verdicts already reached: entries in queue order (at most `limit`), then the excluded."""
    verdicts = list(verdicts)
    entries = sorted((v for v in verdicts if v is not None and not isinstance(v, Exclusion)), key=lambda e: e.sort_key)
    excluded = sorted((v for v in verdicts if isinstance(v, Exclusion)),
                      key=lambda x: (KINDS.index(x.kind) if x.kind in KINDS else len(KINDS), x.debtor))
    return Queue(at=now.astimezone(UTC), agent=agent, entries=tuple(entries[:limit]), excluded=tuple(excluded),
                 block=block)


def evaluate(d: DossierFacts, rules: QueueRules, now: datetime) -> Entry | Exclusion | None:
    """The dossier's place in the queue at `now`, why it may not be called, or None if nothing is due."""
    now = now.astimezone(UTC)
    team_tz = ZoneInfo(rules.team_tz)
    today = now.astimezone(team_tz).date()
    overdue = [i for i in d.invoices if i.open_amount > 0 and i.due_date < today]
    collectable = sum((i.open_amount for i in overdue if not i.disputed), Decimal("0.00"))
    days = max(((today - i.due_date).days for i in overdue if not i.disputed), default=0)
    score = int(collectable * 100) * days
    blocked: dict[str, datetime | None] = {}

    due_callbacks = [c for c in d.callbacks if c.due_at <= now]
    mine = [c for c in due_callbacks if c.kind != "appointment" or c.agent in (None, rules.agent)
            or now >= c.due_at + rules.grace]
    for c in due_callbacks:
        if c not in mine:  # an appointment is its owner's for a while: nobody else calls the debtor meanwhile
            blocked["appointment_owner"] = min(_known(blocked.get("appointment_owner")), c.due_at + rules.grace)
    appointment = _first(c for c in mine if c.kind == "appointment")
    returned = _first(c for c in mine if c.kind == "return")
    follow_call = _first(c for c in mine if c.kind == "follow_up")
    answered_at = [a.at for a in d.attempts if a.answered]
    # A promise whose follow-up call the scheduler planned comes back through that call-back, not by itself;
    # while it runs it still holds the dossier (promise_running), whatever else does too.
    expired = [p for p in d.promises if p.due_date < today and not p.followed
               and not any(t >= _day_start(p.due_date, 1, team_tz) for t in answered_at)]
    running = [p for p in d.promises if p.status == "open" and p.due_date >= today]
    state = retry_state(d.attempts, rules.retry_rule, now=now, tz=ZoneInfo(d.tz))

    callback = appointment or returned or follow_call
    promise = None if callback else min(expired, key=lambda p: (p.due_date, p.id), default=None)
    if appointment or returned:
        kind = "callback" if appointment else "return"
    elif follow_call or promise:
        kind = "follow_up"
    elif state.due is not None:
        kind = "retry"
    elif overdue:
        kind = "new"
    elif blocked:
        kind = "callback"
    else:
        return None

    if d.do_not_call:
        blocked["do_not_call"] = None
    if d.written_only:
        blocked["written_only"] = None
    if d.insolvent:
        blocked["insolvent"] = None
    if kind not in _EXPLICIT:
        if not overdue:
            return None if not blocked else _exclusion(d, kind, blocked, None, now)  # paid meanwhile
        if collectable <= 0:
            blocked["dispute_open"] = None
        elif collectable < rules.min_amount:
            blocked["min_amount"] = None
        if running and kind != "follow_up":
            blocked["promise_running"] = _day_start(min(p.due_date for p in running), 1, team_tz)
        scheduled = [c.due_at for c in d.callbacks if c.due_at > now]
        if scheduled:
            blocked["callback_scheduled"] = min(scheduled)
    if d.claim is not None and d.claim.agent != rules.agent and d.claim.expires_at > now:
        blocked["claimed"] = d.claim.expires_at
    for rule in state.rules:
        if rule != CONTACTED_TODAY or kind not in _EXPLICIT:
            blocked[rule] = state.next_allowed

    # After a broken promise the owner decides; an expired one goes back to whoever made it.
    stage = "escalation" if kind == "follow_up" and any(p.status == "broken" for p in expired) else kind
    prefer = callback.contact_id if callback else \
        promise.contact_id if promise is not None and stage != "escalation" else None
    last_number = max(d.attempts, key=lambda a: a.at).number if kind == "retry" and d.attempts else None
    choice = choose(d.contacts, stage, prefer_contact=prefer, prefer_number=last_number,
                    dead=dead_numbers(d.attempts))
    if choice is None:
        # Every number barred (the team's do-not-call list), dead, or none known: say which, all that apply.
        phones = [p for c in d.contacts for p in c.phones]
        if any(p.barred for p in phones):
            blocked["dnc_list"] = None
        if not phones or not all(p.barred for p in phones):
            blocked["no_number"] = None
        return _exclusion(d, kind, blocked, d.pack(None), now)
    number = choice.phone.number
    pack = d.pack(number)
    ledger = [Contact(at=a.at, number=a.number, sip_code=a.sip_code, answered=a.answered, conversation=a.answered,
                      withheld=a.withheld) for a in d.attempts]
    try:
        decision = decide(pack, tz=d.tz, ledger=ledger, now=now, number=number)
        withhold_allowed = decision.withhold_allowed
        for rule in decision.rules:
            blocked[rule] = decision.next_allowed
    except PolicyError:
        blocked["calling_window"], withhold_allowed = None, False
    if blocked:
        return _exclusion(d, kind, blocked, pack, now, ledger)

    withhold = withhold_caller_id(d.attempts, number, after=rules.withhold_after, allowed=withhold_allowed,
                                  refuses_anonymous=choice.phone.refuses_anonymous)
    due: datetime | None
    if callback is not None:
        due = callback.due_at
    elif promise is not None:
        due = _day_start(promise.due_date, 1, team_tz)
    else:
        due = state.due if kind == "retry" else None
    if kind == "callback":
        assert callback is not None
        order: tuple[Any, ...] = (0 if callback.agent == rules.agent else 1 if callback.agent is None else 2,
                                  callback.due_at)
        reason = f"appointment call-back due {_local(callback.due_at, team_tz)}" + \
            (f" ({callback.agent})" if callback.agent else "")
    elif kind == "return":
        assert callback is not None
        order = (0 if callback.agent == rules.agent else 1, callback.due_at)
        reason = f"return call requested, due {_local(callback.due_at, team_tz)}"
    elif kind == "follow_up":
        order = (due, -score)
        reason = (f"promise of {promise.amount} due {promise.due_date} not kept" if promise else
                  f"promise follow-up due {_local(due, team_tz)}")
    elif kind == "retry":
        order = (due, -score)
        reason = f"retry after {state.outcome} (retry {state.retries + 1})"
    else:
        order = (-d.priority_boost, 0 if d.repeat_late else 1, -score)
        reason = f"first call: {collectable} overdue, {days} days" + ("; repeat late payer" if d.repeat_late else "")
    return Entry(debtor=d.ref, debtor_id=d.id, contact=choice.contact.name, contact_id=choice.contact.id,
                 number=number, kind=kind, due=due, withhold_caller_id=withhold, reason=reason, name=d.name,
                 role=choice.contact.role, callback_id=callback.id if callback else None,
                 agreement_id=promise.id if promise else None,
                 sort_key=(KINDS.index(kind), *order, d.ref))


def _exclusion(d: DossierFacts, kind: str, blocked: dict[str, datetime | None], pack: PolicyPack | None,
               now: datetime, ledger: list[Contact] | None = None) -> Exclusion:
    rules = tuple(sorted(blocked, key=lambda r: RULES.index(r) if r in RULES else len(RULES)))
    times = list(blocked.values())
    next_allowed: datetime | None = None
    if times and all(t is not None for t in times):
        next_allowed = max(t for t in times if t is not None)
        if pack is not None:
            try:  # the other rules may let go while the calling window is shut
                next_allowed = earliest_allowed(pack, tz=d.tz, ledger=ledger or [], not_before=next_allowed)
            except PolicyError:
                next_allowed = None
    return Exclusion(debtor=d.ref, debtor_id=d.id, rules=rules, next_allowed=next_allowed, kind=kind, name=d.name)


def _first(items: Iterable[Any]) -> Any:
    return next(iter(sorted(items, key=lambda c: (c.due_at, c.id))), None)


def _known(value: datetime | None) -> datetime:
    return value if value is not None else datetime.max.replace(tzinfo=UTC)


def _day_start(day: Any, offset: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=offset), time(0), tzinfo=tz).astimezone(UTC)


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()
