"""Dossiers in a real database and configurations for queue, dialling and session tests (no tests here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.attempt import Attempt
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement, Complaint
from dialer.dossiers.ledger import Invoice
from dialer.dossiers.parties import Contact, Debtor, Phone
from dialer.queue.claimmodel import DossierClaim
from dialer.settings.config import Config, parse

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday, 10:00 in Amsterdam
ALWAYS_PACK = """
name = "always"
description = "tests: every minute of every day, caller ID may be withheld"
[window]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"
holidays = ""
[caller_id]
withhold = "allowed"
"""


def safe_zone(now: datetime | None = None) -> str:
    """A zone where it is not 23:5x now, so a 00:00-23:59 window or block surely covers the next minutes."""
    now = now or datetime.now(UTC)
    return "UTC" if now.hour != 23 or now.minute < 50 else "Asia/Tokyo"


def config_text(tmp_path: Path, *, db_url: str | None = None, trunk: str = "127.0.0.1:5060", team_zone: str =
                "Europe/Amsterdam", always: bool = False, blocks: str | None = None, extra: str = "") -> str:
    """A complete configuration; `always`: a 24/7 policy pack and an all-day block, so `now` is allowed."""
    policy = ""
    if always:
        pack = tmp_path / "always.toml"
        pack.write_text(ALWAYS_PACK)
        policy = f'policy = "{pack}"'
        blocks = blocks or '[[blocks]]\ndays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n' \
                           'start = "00:00"\nend = "23:59"\n'
    if blocks is None:
        blocks = '[[blocks]]\ndays = ["mon", "tue", "wed", "thu", "fri"]\nstart = "09:30"\nend = "11:00"\n'
    return f"""
[database]
url = "{db_url or 'sqlite:///' + str(tmp_path / 'belblok.db')}"
[sip]
trunk = "{trunk}"
caller_id = "+31201234567"
response_timeout_s = 2
[recording]
dir = "{tmp_path / 'rec'}"
[team]
country = "NL"
timezone = "{team_zone}"
{policy}
{blocks}
{extra}
"""


def make_config(tmp_path: Path, **options: object) -> tuple[Config, Path]:
    """The parsed configuration and its file."""
    text = config_text(tmp_path, **options)  # type: ignore[arg-type]
    path = tmp_path / "belblok.toml"
    path.write_text(text)
    return parse(text, str(path)), path


def add_debtor(session: Session, ref: str, *, amount: str | None = "500.00", days_overdue: int = 30,
               today: date = T0.date(), phones: list[tuple[str, str, str, str]] | None = None,
               **fields: object) -> Debtor:
    """A debtor with one overdue invoice and contacts: (name, role, number, kind) per phone."""
    debtor = Debtor(ref=ref, name=f"Debtor {ref}", created_at=T0, updated_at=T0, **fields)
    if phones is None:
        phones = [("Piet", "credit_manager", "+31612345678", "direct")]
    for name, role, number, kind in phones:
        contact = next((c for c in debtor.contacts if c.name == name), None)
        if contact is None:
            contact = Contact(name=name, role=role)
            debtor.contacts.append(contact)
        contact.phones.append(Phone(number=number, kind=kind))
    session.add(debtor)
    session.flush()
    if amount is not None:
        due = today - timedelta(days=days_overdue)
        session.add(Invoice(debtor_id=debtor.id, number=f"{ref}-1", date=due - timedelta(days=30), due_date=due,
                            amount=Decimal(amount), open_amount=Decimal(amount)))
        session.flush()
    return debtor


def add_attempt(session: Session, debtor: Debtor, at: datetime, outcome: str, *, number: str | None = None,
                withheld: bool = False, sip_code: int | None = None) -> Attempt:
    """A finished call to the debtor's first number."""
    answered = at + timedelta(seconds=5) if outcome == "answered" else None
    row = Attempt(number=number or debtor.contacts[0].phones[0].number, debtor_ref=debtor.ref, caller_id="+31201234567",
                  caller_id_withheld=withheld, state="ended", created_at=at, answered_at=answered,
                  ended_at=at + timedelta(seconds=30), outcome=outcome, sip_code=sip_code, agent="anna")
    session.add(row)
    session.flush()
    # as DossierDialer.after_call notes it (the queue's retry tier reads it among a million dossiers)
    session.merge(DossierClaim(debtor_id=debtor.id, last_called_at=at, last_outcome=outcome,
                               last_ended_at=row.ended_at))
    session.flush()
    return row


def add_callback(session: Session, debtor: Debtor, kind: str, due_at: datetime, agent: str | None = None,
                 status: str = "pending") -> Callback:
    """A scheduled call."""
    row = Callback(debtor_id=debtor.id, kind=kind, due_at=due_at, agent=agent, status=status,
                   created_at=due_at - timedelta(days=1))
    session.add(row)
    session.flush()
    return row


def add_promise(session: Session, debtor: Debtor, due: date, status: str = "open") -> Agreement:
    """A promise to pay."""
    row = Agreement(debtor_id=debtor.id, amount=Decimal("100.00"), due_date=due, status=status,
                    created_at=T0 - timedelta(days=10))
    session.add(row)
    session.flush()
    return row


def add_complaint(session: Session, debtor: Debtor) -> Complaint:
    """An open complaint about all of the debtor's invoices."""
    invoices = list(session.scalars(select(Invoice).where(Invoice.debtor_id == debtor.id)))
    row = Complaint(debtor_id=debtor.id, status="open", summary="goods never received", opened_on=T0.date(),
                    invoices=invoices)
    session.add(row)
    session.flush()
    return row


def attempt_count(engine: Engine) -> int:
    """How many attempts the log holds."""
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Attempt)) or 0)
