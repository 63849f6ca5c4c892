"""What a wrap-up is made of: the agent's input, the team it is checked against, the result, the refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ..settings.config import Config
from .negotiation import Breach, NegotiationRoom

OUTCOMES = ("promise_to_pay", "callback", "complaint_raised", "refused", "broke_off", "no_contact", "wrong_number")
ESCALATIONS = ("written_reminder", "collection_agency")
DEFAULT_ESCALATION = {"refused": "collection_agency", "broke_off": "written_reminder"}  # handbook §6.7.3–6.7.4
OBJECTION_TASKS = ("send_invoice_copy", "check_payment")
FOLLOW_UP_AT = time(10, 0)  # the promise follow-up call: the first day after the term, in the morning


class WrapUpInvalid(ValueError):
    """The wrap-up cannot be saved as given; the message says what to fix."""


class NotYourCall(WrapUpInvalid):
    """The call is another agent's: only its agent or a supervisor wraps it up or notes on it."""


class NeedsConfirmation(Exception):
    """The agreement leaves the negotiation room: the agent must confirm these warnings."""

    def __init__(self, warnings: list[Breach]) -> None:
        super().__init__(", ".join(w.code for w in warnings))
        self.warnings = warnings


@dataclass(frozen=True)
class AgreementInput:
    """The agreement as entered: payments (amount, date), discount, invoices, condition, contact."""

    payments: list[tuple[str, date]]
    discount_pct: str = "0"
    invoices: list[str] = field(default_factory=list)  # invoice numbers; empty = every open invoice
    conditional_on_complaint: int | None = None


@dataclass(frozen=True)
class CallbackInput:
    """A call-back appointment at a local wall-clock time in the team's time zone."""

    local_time: datetime  # naive: the team's local time
    note: str | None = None


@dataclass(frozen=True)
class WrapUp:
    """Everything the agent records after a call."""

    debtor_ref: str
    outcome: str
    attempt_id: int | None = None
    contact: str | None = None  # the contact spoken to (name)
    agreement: AgreementInput | None = None
    callback: CallbackInput | None = None
    complaint: str | None = None  # summary of a new complaint
    complaint_invoices: list[str] = field(default_factory=list)
    escalation: str | None = None
    tasks: list[str] = field(default_factory=list)  # from objections: send_invoice_copy, check_payment
    note: str | None = None
    confirm: bool = False


@dataclass
class WrapUpResult:
    """What the wrap-up stored (ids), and the warnings the agent confirmed."""

    agreement_id: int | None = None
    email_id: int | None = None
    callback_id: int | None = None
    follow_up_id: int | None = None
    complaint_id: int | None = None
    task_ids: list[int] = field(default_factory=list)
    note_id: int | None = None
    wrapup_id: int | None = None
    warnings: list[Breach] = field(default_factory=list)
    email_missing: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"agreement_id": self.agreement_id, "email_id": self.email_id, "callback_id": self.callback_id,
                "follow_up_id": self.follow_up_id, "complaint_id": self.complaint_id, "task_ids": self.task_ids,
                "note_id": self.note_id, "wrapup_id": self.wrapup_id, "warnings": [w.to_json() for w in self.warnings],
                "email_missing": self.email_missing}


@dataclass(frozen=True)
class Team:
    """What the wrap-up needs to know of the team: name, time zone, negotiation room."""

    name: str
    timezone: str
    room: NegotiationRoom
    config: Config | None = None  # with it, appointments keep to the debtor's policy window
    country: str = "NL"  # public holidays for the follow-up's business day


def local_to_utc(local: datetime, zone: str) -> datetime:
    """A naive wall-clock time in `zone` as an aware UTC time; a time skipped by DST is refused."""
    tz = ZoneInfo(zone)
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    if back != local.replace(tzinfo=None):
        raise WrapUpInvalid(f"{local:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it)")
    return aware.astimezone(ZoneInfo("UTC"))
