"""The wrap-up after a call: outcome, agreement (checked against the room), call-back, complaint, escalation."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..calllog.attempt import Attempt, placed_at
from ..dossiers.callbacks import Callback
from ..dossiers.casework import Complaint, Note
from ..dossiers.dossier import load_debtor
from ..dossiers.ledger import Invoice
from ..dossiers.parties import Contact, Debtor
from ..dossiers.tasks import Task
from ..dossiers.wrapups import WrapUpRecord
from ..scheduling.callbackservice import place_appointment
from ..storage import daybook
from .agreement import chosen_invoices, plan_agreement, store_agreement
from .form import (
    DEFAULT_ESCALATION,
    ESCALATIONS,
    FOLLOW_UP_AT,
    OBJECTION_TASKS,
    OUTCOMES,
    AgreementInput,
    CallbackInput,
    NeedsConfirmation,
    NotYourCall,
    Team,
    WrapUp,
    WrapUpInvalid,
    WrapUpResult,
    local_to_utc,
)

# The wrap-up's shapes live in wrapupform; callers keep importing them from here.
__all__ = ["DEFAULT_ESCALATION", "ESCALATIONS", "FOLLOW_UP_AT", "OBJECTION_TASKS", "OUTCOMES", "AgreementInput",
           "CallbackInput", "NeedsConfirmation", "NotYourCall", "Team", "WrapUp", "WrapUpInvalid", "WrapUpResult",
           "add_note", "local_to_utc", "record"]


def record(session: Session, wrap: WrapUp, *, agent: str, team: Team, now: datetime,
           supervisor: bool = False) -> WrapUpResult:
    """Store the wrap-up in `session` (the caller commits); NeedsConfirmation if the agreement needs it.

    The call's own agent saves it, or a supervisor (`supervisor=True`); anyone else gets NotYourCall.
    """
    if wrap.outcome not in OUTCOMES:
        raise WrapUpInvalid(f"outcome must be one of {', '.join(OUTCOMES)}")
    debtor = load_debtor(session, wrap.debtor_ref)
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    _check_attempt(session, wrap, debtor, agent, supervisor)
    contact = _contact(debtor, wrap.contact)
    # Every check comes before the first write: a refused wrap-up leaves nothing, not even in an open session.
    escalation = _check_parts(wrap)
    due = _appointment_time(wrap.callback, team, now) if wrap.callback is not None else None
    complaint_invoices = chosen_invoices(session, debtor, wrap.complaint_invoices) if wrap.complaint_invoices else []
    plan = None
    if wrap.agreement is not None:
        plan = plan_agreement(session, debtor, wrap.agreement, room=team.room, today=today, confirm=wrap.confirm)

    result = WrapUpResult()
    complaint = None
    if wrap.complaint and wrap.complaint.strip():
        complaint = _complaint(session, debtor, wrap.complaint.strip(), complaint_invoices, today)
        result.complaint_id = complaint.id
    if plan is not None:
        # A complaint raised in this call holds up the agreement made in it, unless another one was named.
        condition = plan.complaint or (complaint if wrap.outcome == "complaint_raised" else None)
        store_agreement(session, plan, debtor=debtor, contact=contact, attempt_id=wrap.attempt_id,
                        condition=condition, agent=agent, team=team, now=now, result=result)
    if due is not None:
        result.callback_id = _appointment(session, debtor, contact, wrap, agent, team, now, due)
    if escalation:
        result.task_ids.append(_task(session, debtor, wrap, escalation, agent, now, role="supervisor"))
    for kind in wrap.tasks:
        result.task_ids.append(_task(session, debtor, wrap, kind, agent, now, assignee=agent))
    text = f"[{wrap.outcome}]" + (f" {wrap.note.strip()}" if wrap.note and wrap.note.strip() else "")
    note = Note(debtor_id=debtor.id, attempt_id=wrap.attempt_id, author=agent, text=text, created_at=now)
    row = WrapUpRecord(debtor_id=debtor.id, attempt_id=wrap.attempt_id, agent=agent, outcome=wrap.outcome,
                       escalation=escalation, agreement_id=result.agreement_id, callback_id=result.callback_id,
                       created_at=now)
    session.add_all([note, row])
    session.flush()
    if wrap.attempt_id is not None:  # the call's day counts this outcome now
        daybook.forget(session.connection(), placed_at(wrap.attempt_id))
    result.note_id, result.wrapup_id = note.id, row.id
    return result


def _check_parts(wrap: WrapUp) -> str | None:
    """The parts the outcome needs are there and every choice is known; the escalation to raise, if any."""
    if wrap.outcome == "promise_to_pay" and wrap.agreement is None:
        raise WrapUpInvalid("a promise to pay needs the agreement: amount and date")
    if wrap.outcome == "callback" and wrap.callback is None:
        raise WrapUpInvalid("a call-back appointment needs a date and time")
    if wrap.outcome == "complaint_raised" and not (wrap.complaint or "").strip():
        raise WrapUpInvalid("describe the complaint")
    escalation = wrap.escalation or DEFAULT_ESCALATION.get(wrap.outcome)
    if escalation and escalation not in ESCALATIONS:
        raise WrapUpInvalid(f"escalation must be one of {', '.join(ESCALATIONS)}")
    if any(kind not in OBJECTION_TASKS for kind in wrap.tasks):
        raise WrapUpInvalid(f"task must be one of {', '.join(OBJECTION_TASKS)}")
    return escalation


def _check_attempt(session: Session, wrap: WrapUp, debtor: Debtor, agent: str, supervisor: bool) -> None:
    if wrap.attempt_id is None:
        return
    attempt = session.get(Attempt, wrap.attempt_id)
    if attempt is None or attempt.debtor_ref != debtor.ref:
        raise WrapUpInvalid(f"attempt {wrap.attempt_id} is not a call to {debtor.ref}")
    if attempt.agent and attempt.agent != agent and not supervisor:
        raise NotYourCall(f"call {wrap.attempt_id} is {attempt.agent}'s: only they or a supervisor may wrap it up "
                          f"or add notes to it")


def _contact(debtor: Debtor, name: str | None) -> Contact | None:
    if not name:
        return None
    for contact in debtor.contacts:
        if contact.name == name:
            return contact
    raise WrapUpInvalid(f"{debtor.ref} has no contact named {name!r}")


def _appointment_time(form: CallbackInput, team: Team, now: datetime) -> datetime:
    due = local_to_utc(form.local_time, team.timezone)
    if due <= now:
        raise WrapUpInvalid("the call-back appointment must lie in the future")
    return due


def _appointment(session: Session, debtor: Debtor, contact: Contact | None, wrap: WrapUp, agent: str, team: Team,
                 now: datetime, due: datetime) -> int:
    form = wrap.callback
    assert form is not None
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


def _complaint(session: Session, debtor: Debtor, summary: str, invoices: list[Invoice], today: date) -> Complaint:
    row = Complaint(debtor_id=debtor.id, status="open", summary=summary, opened_on=today, invoices=invoices)
    session.add(row)
    session.flush()
    return row


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


def add_note(session: Session, ref: str, text: str, *, attempt_id: int | None, author: str, now: datetime,
             supervisor: bool = False) -> int:
    """A note on the dossier, linked to the call it was taken in (the call's agent's, or a supervisor's)."""
    debtor = load_debtor(session, ref)
    _check_attempt(session, WrapUp(debtor_ref=ref, outcome="", attempt_id=attempt_id), debtor, author, supervisor)
    note = Note(debtor_id=debtor.id, attempt_id=attempt_id, author=author, text=text.strip()[:10_000], created_at=now)
    session.add(note)
    session.flush()
    return note.id
