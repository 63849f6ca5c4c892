"""The wrap-up after a call: outcome, agreement (checked against the room), call-back, complaint, escalation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .callbacks import Callback
from .callbackservice import place_appointment
from .casework import Agreement, Complaint, Instalment, Note
from .config import Config
from .confirmation import ConfirmationFacts, compose
from .correspondence import SentEmail
from .dossier import load_debtor
from .ledger import Invoice
from .models import Attempt
from .negotiation import NegotiationError, NegotiationRoom, Breach, check, make_proposal
from .parties import Contact, Debtor
from .schedulerules import first_business_day_after
from .tasks import Task

OUTCOMES = ("promise_to_pay", "callback", "complaint_raised", "refused", "broke_off", "no_contact", "wrong_number")
ESCALATIONS = ("written_reminder", "collection_agency")
DEFAULT_ESCALATION = {"refused": "collection_agency", "broke_off": "written_reminder"}  # handbook §6.7.3–6.7.4
OBJECTION_TASKS = ("send_invoice_copy", "check_payment")
FOLLOW_UP_AT = time(10, 0)  # the promise follow-up call: the first day after the term, in the morning


class WrapUpInvalid(ValueError):
    """The wrap-up cannot be saved as given; the message says what to fix."""


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
    warnings: list[Breach] = field(default_factory=list)
    email_missing: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"agreement_id": self.agreement_id, "email_id": self.email_id, "callback_id": self.callback_id,
                "follow_up_id": self.follow_up_id, "complaint_id": self.complaint_id, "task_ids": self.task_ids,
                "note_id": self.note_id, "warnings": [w.to_json() for w in self.warnings],
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


def record(session: Session, wrap: WrapUp, *, agent: str, team: Team, now: datetime) -> WrapUpResult:
    """Store the wrap-up in `session` (the caller commits); NeedsConfirmation if the agreement needs it."""
    if wrap.outcome not in OUTCOMES:
        raise WrapUpInvalid(f"outcome must be one of {', '.join(OUTCOMES)}")
    debtor = load_debtor(session, wrap.debtor_ref)
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    _check_attempt(session, wrap, debtor)
    contact = _contact(debtor, wrap.contact)
    result = WrapUpResult()
    if wrap.outcome == "promise_to_pay" and wrap.agreement is None:
        raise WrapUpInvalid("a promise to pay needs the agreement: amount and date")
    if wrap.outcome == "callback" and wrap.callback is None:
        raise WrapUpInvalid("a call-back appointment needs a date and time")
    if wrap.outcome == "complaint_raised" and not (wrap.complaint or "").strip():
        raise WrapUpInvalid("describe the complaint")
    if wrap.complaint and wrap.complaint.strip():
        result.complaint_id = _complaint(session, debtor, wrap, today)
    if wrap.agreement is not None:
        _agreement(session, debtor, contact, wrap, agent, team, now, today, result)
    if wrap.callback is not None:
        result.callback_id = _appointment(session, debtor, contact, wrap, agent, team, now)
    escalation = wrap.escalation or DEFAULT_ESCALATION.get(wrap.outcome)
    if escalation:
        if escalation not in ESCALATIONS:
            raise WrapUpInvalid(f"escalation must be one of {', '.join(ESCALATIONS)}")
        result.task_ids.append(_task(session, debtor, wrap, escalation, agent, now, role="supervisor"))
    for kind in wrap.tasks:
        if kind not in OBJECTION_TASKS:
            raise WrapUpInvalid(f"task must be one of {', '.join(OBJECTION_TASKS)}")
        result.task_ids.append(_task(session, debtor, wrap, kind, agent, now, assignee=agent))
    text = f"[{wrap.outcome}]" + (f" {wrap.note.strip()}" if wrap.note and wrap.note.strip() else "")
    note = Note(debtor_id=debtor.id, attempt_id=wrap.attempt_id, author=agent, text=text, created_at=now)
    session.add(note)
    session.flush()
    result.note_id = note.id
    return result


def _check_attempt(session: Session, wrap: WrapUp, debtor: Debtor) -> None:
    if wrap.attempt_id is None:
        return
    attempt = session.get(Attempt, wrap.attempt_id)
    if attempt is None or attempt.debtor_ref != debtor.ref:
        raise WrapUpInvalid(f"attempt {wrap.attempt_id} is not a call to {debtor.ref}")


def _contact(debtor: Debtor, name: str | None) -> Contact | None:
    if not name:
        return None
    for contact in debtor.contacts:
        if contact.name == name:
            return contact
    raise WrapUpInvalid(f"{debtor.ref} has no contact named {name!r}")


def _invoices(session: Session, debtor: Debtor, numbers: list[str]) -> list[Invoice]:
    rows = list(session.scalars(select(Invoice).where(Invoice.debtor_id == debtor.id).order_by(Invoice.due_date)))
    if not numbers:
        return [inv for inv in rows if inv.open_amount > 0]
    by_number = {inv.number: inv for inv in rows}
    missing = [n for n in numbers if n not in by_number]
    if missing:
        raise WrapUpInvalid(f"unknown invoice(s) for {debtor.ref}: {', '.join(missing)}")
    return [by_number[n] for n in numbers]


def _agreement(session: Session, debtor: Debtor, contact: Contact | None, wrap: WrapUp, agent: str, team: Team,
               now: datetime, today: date, result: WrapUpResult) -> None:
    form = wrap.agreement
    assert form is not None
    invoices = _invoices(session, debtor, form.invoices)
    open_total = sum((inv.open_amount for inv in invoices), Decimal("0.00"))
    try:
        proposal = make_proposal(list(form.payments), form.discount_pct, today=today)
    except NegotiationError as exc:
        raise WrapUpInvalid(str(exc)) from None
    warnings = check(proposal, open_total, today, team.room)
    if warnings and not wrap.confirm:
        raise NeedsConfirmation(warnings)
    result.warnings = warnings
    complaint_id = form.conditional_on_complaint or None
    condition = None
    if complaint_id is None and wrap.outcome == "complaint_raised":
        complaint_id = result.complaint_id
    if complaint_id is not None:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None or complaint.debtor_id != debtor.id:
            raise WrapUpInvalid(f"complaint {complaint_id} is not one of {debtor.ref}")
        condition = complaint.summary
    agreement = Agreement(
        debtor_id=debtor.id, amount=proposal.total, due_date=proposal.last_date, status="open",
        invoice_id=invoices[0].id if len(invoices) == 1 else None, conditional_on_complaint_id=complaint_id,
        attempt_id=wrap.attempt_id, contact_id=contact.id if contact else None, agent=agent, created_at=now)
    if len(proposal.payments) > 1:
        agreement.instalments = [Instalment(seq=i, amount=p.amount, due_date=p.due_date)
                                 for i, p in enumerate(proposal.payments, 1)]
    session.add(agreement)
    session.flush()
    result.agreement_id = agreement.id
    follow = Callback(debtor_id=debtor.id, kind="follow_up", agent=agent, status="pending",
                      # Handbook §6.7.4: call again on the first business day after the promised date.
                      due_at=local_to_utc(datetime.combine(first_business_day_after(proposal.first.due_date,
                                                                                    team.country), FOLLOW_UP_AT),
                                          team.timezone),
                      contact_id=contact.id if contact else None, agreement_id=agreement.id,
                      source_attempt_id=wrap.attempt_id, created_at=now, created_by=agent,
                      note=f"agreement {agreement.id}: first payment due {proposal.first.due_date.isoformat()}")
    session.add(follow)
    to = contact if contact is not None and contact.email else next((c for c in debtor.contacts if c.email), None)
    if to is None or not to.email:
        result.email_missing = True
    else:
        language = debtor.language if debtor.language in ("nl", "en") else "en"
        letter = compose(ConfirmationFacts(
            language=language, team=team.name, agent=agent, debtor_name=debtor.name, contact_name=to.name,
            payments=[(p.amount, p.due_date) for p in proposal.payments],
            currency=invoices[0].currency if invoices else "EUR", invoices=[inv.number for inv in invoices],
            open_total=open_total, discount_pct=proposal.discount_pct, condition=condition))
        email = SentEmail(debtor_id=debtor.id, agreement_id=agreement.id, to_address=to.email,
                          subject=letter.subject[:255], body=letter.body, language=language, status="queued",
                          created_at=now)
        session.add(email)
    session.flush()
    result.follow_up_id = follow.id
    if to is not None and to.email:
        result.email_id = email.id


def _appointment(session: Session, debtor: Debtor, contact: Contact | None, wrap: WrapUp, agent: str, team: Team,
                 now: datetime) -> int:
    form = wrap.callback
    assert form is not None
    due = local_to_utc(form.local_time, team.timezone)
    if due <= now:
        raise WrapUpInvalid("the call-back appointment must lie in the future")
    if team.config is not None:
        # Honoured outside calling blocks, never outside the debtor's policy window (moved, and said why).
        return place_appointment(session, debtor, due, cfg=team.config, now=now, agent=agent,
                                 note=form.note or None, contact_id=contact.id if contact else None,
                                 source_attempt_id=wrap.attempt_id, created_by=agent).id
    row = Callback(debtor_id=debtor.id, kind="appointment", due_at=due, agent=agent, status="pending",
                   note=(form.note or None), contact_id=contact.id if contact else None,
                   source_attempt_id=wrap.attempt_id, created_at=now, created_by=agent)
    session.add(row)
    session.flush()
    return row.id


def _complaint(session: Session, debtor: Debtor, wrap: WrapUp, today: date) -> int:
    invoices = _invoices(session, debtor, wrap.complaint_invoices) if wrap.complaint_invoices else []
    row = Complaint(debtor_id=debtor.id, status="open", summary=(wrap.complaint or "").strip(), opened_on=today,
                    invoices=invoices)
    session.add(row)
    session.flush()
    return row.id


_TITLES = {
    "written_reminder": "Written reminder for {ref} ({name})",
    "collection_agency": "Hand over {ref} ({name}) to a collection agency?",
    "send_invoice_copy": "Send a copy of the invoice to {ref} ({name})",
    "check_payment": "Check whether {ref} ({name}) has paid",
}


def _task(session: Session, debtor: Debtor, wrap: WrapUp, kind: str, agent: str, now: datetime, *,
          role: str | None = None, assignee: str | None = None) -> int:
    detail = f"{wrap.outcome} after attempt {wrap.attempt_id}" if wrap.attempt_id else wrap.outcome
    if wrap.note:
        detail += f": {wrap.note.strip()}"
    row = Task(kind=kind, status="open", debtor_id=debtor.id, agent=assignee, role=role,
               title=_TITLES[kind].format(ref=debtor.ref, name=debtor.name)[:255], detail=detail,
               attempt_id=wrap.attempt_id, created_at=now, created_by=agent)
    session.add(row)
    session.flush()
    return row.id


def add_note(session: Session, ref: str, text: str, *, attempt_id: int | None, author: str, now: datetime) -> int:
    """A note on the dossier, linked to the call it was taken in."""
    debtor = load_debtor(session, ref)
    _check_attempt(session, WrapUp(debtor_ref=ref, outcome="", attempt_id=attempt_id), debtor)
    note = Note(debtor_id=debtor.id, attempt_id=attempt_id, author=author, text=text.strip()[:10_000], created_at=now)
    session.add(note)
    session.flush()
    return note.id
