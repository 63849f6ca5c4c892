"""The agreement of a wrap-up: checked against the negotiation room, then stored with all it brings along."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..calllog.attempt import placed_at
from ..dossiers.callbacks import Callback
from ..dossiers.casework import Agreement, Complaint, Instalment
from ..dossiers.correspondence import SentEmail
from ..dossiers.ledger import Invoice
from ..dossiers.parties import Contact, Debtor
from ..mail.confirmation import ConfirmationFacts, compose
from ..recordings.model import Recording
from ..scheduling.rules import first_business_day_after
from ..storage import daybook
from ..storage.columns import HUNDREDTH
from .form import (
    FOLLOW_UP_AT,
    AgreementInput,
    NeedsConfirmation,
    Team,
    WrapUpInvalid,
    WrapUpResult,
    local_to_utc,
)
from .negotiation import (
    Breach,
    NegotiationError,
    NegotiationRoom,
    Proposal,
    check,
    make_proposal,
)


@dataclass(frozen=True)
class AgreementPlan:
    """An agreement inside the room (or with its warnings confirmed), not yet stored."""

    proposal: Proposal
    invoices: list[Invoice]
    open_total: Decimal
    warnings: list[Breach]
    complaint: Complaint | None  # an existing complaint it waits for


def chosen_invoices(session: Session, debtor: Debtor, numbers: list[str]) -> list[Invoice]:
    """The debtor's invoices by number (each once); no numbers: every open invoice. WrapUpInvalid if unknown."""
    rows = list(session.scalars(select(Invoice).where(Invoice.debtor_id == debtor.id).order_by(Invoice.due_date)))
    if not numbers:
        return [inv for inv in rows if inv.open_amount > 0]
    by_number = {inv.number: inv for inv in rows}
    missing = [n for n in numbers if n not in by_number]
    if missing:
        raise WrapUpInvalid(f"unknown invoice(s) for {debtor.ref}: {', '.join(missing)}")
    # A number given twice is one invoice: counted once in what is open, linked once.
    return [by_number[n] for n in dict.fromkeys(numbers)]


def plan_agreement(session: Session, debtor: Debtor, form: AgreementInput, *, room: NegotiationRoom, today: date,
                   confirm: bool) -> AgreementPlan:
    """Check the agreement before anything is written: WrapUpInvalid, or NeedsConfirmation unless confirmed."""
    invoices = chosen_invoices(session, debtor, form.invoices)
    open_total = sum((inv.open_amount for inv in invoices), Decimal("0.00"))
    try:
        proposal = make_proposal(list(form.payments), form.discount_pct, today=today)
    except NegotiationError as exc:
        raise WrapUpInvalid(str(exc)) from None
    if proposal.discount_pct != proposal.discount_pct.quantize(HUNDREDTH):
        raise WrapUpInvalid("the discount has at most two decimals")
    complaint = None
    if form.conditional_on_complaint:
        complaint = session.get(Complaint, form.conditional_on_complaint)
        if complaint is None or complaint.debtor_id != debtor.id:
            raise WrapUpInvalid(f"complaint {form.conditional_on_complaint} is not one of {debtor.ref}")
    warnings = check(proposal, open_total, today, room)
    if warnings and not confirm:
        raise NeedsConfirmation(warnings)
    return AgreementPlan(proposal, invoices, open_total, warnings, complaint)


def store_agreement(session: Session, plan: AgreementPlan, *, debtor: Debtor, contact: Contact | None,
                    attempt_id: int | None, condition: Complaint | None, agent: str, team: Team, now: datetime,
                    result: WrapUpResult) -> Agreement:
    """The agreement with its invoices and instalments, its follow-up call, its e-mail; the call's recording linked."""
    proposal, invoices = plan.proposal, plan.invoices
    agreement = Agreement(
        debtor_id=debtor.id, amount=proposal.total, discount_pct=proposal.discount_pct, due_date=proposal.last_date,
        status="open", invoice_id=invoices[0].id if len(invoices) == 1 else None, invoices=list(invoices),
        conditional_on_complaint_id=condition.id if condition else None, attempt_id=attempt_id,
        contact_id=contact.id if contact else None, agent=agent, created_at=now)
    if len(proposal.payments) > 1:
        agreement.instalments = [Instalment(seq=i, amount=p.amount, due_date=p.due_date)
                                 for i, p in enumerate(proposal.payments, 1)]
    session.add(agreement)
    session.flush()
    if attempt_id is not None:
        daybook.forget(session.connection(), placed_at(attempt_id))  # the amount promised in that call
    daybook.forget(session.connection(), now)
    result.agreement_id, result.warnings = agreement.id, plan.warnings
    follow = Callback(debtor_id=debtor.id, kind="follow_up", agent=agent, status="pending",
                      # Handbook §6.7.4: call again on the first business day after the promised date.
                      due_at=local_to_utc(datetime.combine(first_business_day_after(proposal.first.due_date,
                                                                                    team.country), FOLLOW_UP_AT),
                                          team.timezone),
                      contact_id=contact.id if contact else None, agreement_id=agreement.id,
                      source_attempt_id=attempt_id, created_at=now, created_by=agent,
                      note=f"agreement {agreement.id}: first payment due {proposal.first.due_date.isoformat()}")
    session.add(follow)
    email = _confirmation(session, plan, agreement, debtor, contact, agent, team, now,
                          condition=condition.summary if condition else None)
    if attempt_id is not None:
        # The debtor's own words are the proof of the promise: the recording is found from its agreement.
        session.execute(update(Recording).where(Recording.attempt_id == attempt_id)
                        .values(agreement_id=agreement.id))
    session.flush()
    result.follow_up_id = follow.id
    result.email_id = email.id if email else None
    result.email_missing = email is None
    return agreement


def _confirmation(session: Session, plan: AgreementPlan, agreement: Agreement, debtor: Debtor,
                  contact: Contact | None, agent: str, team: Team, now: datetime, *,
                  condition: str | None) -> SentEmail | None:
    to = contact if contact is not None and contact.email else next((c for c in debtor.contacts if c.email), None)
    if to is None or not to.email:
        return None
    language = debtor.language if debtor.language in ("nl", "en") else "en"
    proposal, invoices = plan.proposal, plan.invoices
    letter = compose(ConfirmationFacts(
        language=language, team=team.name, agent=agent, debtor_name=debtor.name, contact_name=to.name,
        payments=[(p.amount, p.due_date) for p in proposal.payments],
        currency=invoices[0].currency if invoices else "EUR", invoices=[inv.number for inv in invoices],
        open_total=plan.open_total, discount_pct=proposal.discount_pct,
        condition=condition))
    email = SentEmail(debtor_id=debtor.id, agreement_id=agreement.id, to_address=to.email,
                      subject=letter.subject[:255], body=letter.body, language=language, status="queued",
                      created_at=now)
    session.add(email)
    return email

