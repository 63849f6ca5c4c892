"""What the queue knows about one dossier at one moment: plain data read from the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..policy.engine import PolicyPack
from .retry import Dialled, RuleLike

DEFAULT_PACK_KEY = ""  # the key of `DossierFacts.packs` for the debtor without a number


@dataclass(frozen=True)
class Claim:
    """A live claim: who holds the dossier and until when."""

    debtor_id: int
    agent: str
    expires_at: datetime


@dataclass(frozen=True)
class PhoneFact:
    """One number of a contact."""

    id: int
    number: str
    kind: str = "direct"  # direct | switchboard
    refuses_anonymous: bool = False
    barred: bool = False  # on the team's do-not-call list: never chosen


@dataclass(frozen=True)
class ContactFact:
    """A person at the debtor, with their role and numbers."""

    id: int
    name: str
    role: str = "other"
    phones: tuple[PhoneFact, ...] = ()


@dataclass(frozen=True)
class InvoiceFact:
    """An open invoice: when it fell due, what is open, whether an open complaint covers it."""

    id: int
    due_date: date
    open_amount: Decimal
    disputed: bool = False


@dataclass(frozen=True)
class CallbackFact:
    """A scheduled call not yet made: appointment, return or follow-up."""

    id: int
    kind: str
    due_at: datetime
    agent: str | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class PromiseFact:
    """A payment agreement still open, or broken."""

    id: int
    due_date: date
    status: str = "open"
    amount: Decimal = Decimal("0.00")
    contact_id: int | None = None
    followed: bool = False  # the scheduler planned its follow-up call: that call-back brings it to the queue


@dataclass(frozen=True)
class DossierFacts:
    """Everything the queue weighs about one debtor."""

    id: int
    ref: str
    tz: str  # the debtor's zone (their own, else their country's, else the team's)
    name: str = ""
    kind: str = "company"
    do_not_call: bool = False
    written_only: bool = False
    insolvent: bool = False
    priority_boost: int = 0
    repeat_late: bool = False
    invoices: tuple[InvoiceFact, ...] = ()
    contacts: tuple[ContactFact, ...] = ()
    attempts: tuple[Dialled, ...] = ()
    callbacks: tuple[CallbackFact, ...] = ()
    promises: tuple[PromiseFact, ...] = ()
    claim: Claim | None = None
    packs: Mapping[str, PolicyPack] = field(default_factory=dict)  # per number; DEFAULT_PACK_KEY without one

    def pack(self, number: str | None) -> PolicyPack:
        """The policy pack for a call to `number`."""
        return self.packs.get(number or DEFAULT_PACK_KEY) or self.packs[DEFAULT_PACK_KEY]


@dataclass(frozen=True)
class QueueRules:
    """The team's settings the queue applies, for one agent."""

    agent: str
    team_tz: str  # the team's date decides what is overdue and which promises have expired
    min_amount: Decimal = Decimal("25.00")
    retry_rule: Callable[[str], RuleLike | None] = lambda outcome: None
    withhold_after: int = 2
    grace: timedelta = timedelta(minutes=10)  # an appointment is its owner's alone this long after it is due
