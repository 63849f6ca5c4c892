"""Demo team and dossiers for `belblok serve --demo` (created once, idempotently)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..accounts.users import add_user, find_user
from ..dossiers.casework import Agreement, Complaint
from ..dossiers.ledger import Invoice, Payment
from ..dossiers.parties import Contact, Debtor, Phone

DEMO_PASSWORD = "demo"
USERS = (("demo", "agent"), ("chef", "supervisor"))

# Which simulated line each demo number reaches: answers, rings out, or is busy (486).
LINES: dict[str, str] = {
    "+31201110001": "answer", "+31201110002": "answer", "+31201110009": "busy",
    "+31301110001": "ring", "+31301110002": "answer",
    "+31101110001": "answer", "+31101110002": "busy",
    "+442071110001": "answer",
    "+31501110001": "answer",
}


def _debtor(session: Session, ref: str, name: str, *, now: datetime, **fields: object) -> Debtor | None:
    if session.scalar(select(Debtor.id).where(Debtor.ref == ref)) is not None:
        return None
    debtor = Debtor(ref=ref, name=name, created_at=now, updated_at=now, **fields)
    session.add(debtor)
    session.flush()
    return debtor


def _contact(debtor: Debtor, name: str, role: str, email: str | None, *phones: tuple[str, str, str]) -> Contact:
    contact = Contact(name=name, role=role, email=email,
                      phones=[Phone(number=n, label=label, kind=kind) for n, label, kind in phones])
    debtor.contacts.append(contact)
    return contact


def _invoice(session: Session, debtor: Debtor, number: str, today: date, *, age: int, term: int, amount: str,
             open_amount: str | None = None, method: str = "bezorgd door eigen vervoer", desc: str = "") -> Invoice:
    issued = today - timedelta(days=age)
    invoice = Invoice(debtor_id=debtor.id, number=number, date=issued, due_date=issued + timedelta(days=term),
                      amount=Decimal(amount), open_amount=Decimal(open_amount if open_amount is not None else amount),
                      currency="EUR", delivered_on=issued - timedelta(days=1), delivery_method=method,
                      description=desc or None)
    session.add(invoice)
    session.flush()
    return invoice


def _paid(session: Session, debtor: Debtor, invoice: Invoice, days_after_due: int, amount: str | None = None) -> None:
    when = invoice.due_date + timedelta(days=days_after_due)
    value = Decimal(amount) if amount else invoice.amount
    session.add(Payment(debtor_id=debtor.id, invoice_id=invoice.id, date=when, amount=value, reference="demo",
                        natural_key=f"demo:{debtor.ref}:{invoice.number}:{when.isoformat()}:{value}"))


def seed(session: Session, *, now: datetime, today: date) -> list[str]:
    """Create the demo users and dossiers that do not exist yet; returns what was created."""
    created: list[str] = []
    for name, role in USERS:
        if find_user(session, name) is None:
            add_user(session, name, role, DEMO_PASSWORD, now=now).demo = True  # its password is in the README
            created.append(f"user {name}")

    if d := _debtor(session, "D-1001", "Bakkerij Van Dijk B.V.", now=now, kind="company", country="NL",
                    language="nl", customer_since=today - timedelta(days=6 * 365), payment_day=25,
                    income_note="Betaalt meestal rond de 25e van de maand"):
        _contact(d, "Jan van Dijk", "owner", "jan@bakkerij-vandijk.example", ("+31201110001", "mobiel", "direct"))
        _contact(d, "Petra Smit", "bookkeeper", "administratie@bakkerij-vandijk.example",
                 ("+31201110002", "doorkiesnummer", "direct"), ("+31201110009", "receptie", "switchboard"))
        _invoice(session, d, "F2026-0412", today, age=75, term=30, amount="1815.00",
                       desc="Meel en bakbenodigdheden, maart")
        _invoice(session, d, "F2026-0498", today, age=20, term=30, amount="968.00", desc="Verpakkingsmateriaal")
        for i, age in enumerate((400, 330, 260, 190, 120)):
            inv = _invoice(session, d, f"F2025-{100 + i:04d}", today, age=age, term=30, amount="750.00",
                           open_amount="0.00")
            _paid(session, d, inv, -3)
        created.append(d.ref)

    if d := _debtor(session, "D-1002", "Installatiebedrijf Jansen", now=now, kind="company", country="NL",
                    language="nl", customer_since=today - timedelta(days=3 * 365),
                    notes="Betaalt vaak te laat; wees kordaat en bel op tijd na."):
        _contact(d, "Kees Jansen", "owner", "kees@jansen-installatie.example", ("+31301110001", "mobiel", "direct"))
        _contact(d, "Sandra de Vries", "credit_manager", "sandra@jansen-installatie.example",
                 ("+31301110002", "doorkiesnummer", "direct"))
        _invoice(session, d, "F2026-0377", today, age=95, term=30, amount="4235.00", desc="Cv-ketels (2x)")
        _invoice(session, d, "F2026-0455", today, age=58, term=30, amount="1210.00", open_amount="605.00",
                 desc="Leidingwerk")
        for i, (age, late) in enumerate(((300, 21), (240, 35), (170, 18))):
            inv = _invoice(session, d, f"F2025-{400 + i:04d}", today, age=age, term=30, amount="1500.00",
                           open_amount="0.00")
            _paid(session, d, inv, late)
        broken = Agreement(debtor_id=d.id, amount=Decimal("2000.00"), due_date=today - timedelta(days=20),
                           status="broken", agent="demo", created_at=now - timedelta(days=30))
        session.add(broken)
        created.append(d.ref)

    if d := _debtor(session, "D-1003", "Drukkerij De Letter", now=now, kind="company", country="NL", language="nl",
                    customer_since=today - timedelta(days=2 * 365)):
        _contact(d, "Mieke Hendriks", "credit_manager", "m.hendriks@deletter.example",
                 ("+31101110001", "doorkiesnummer", "direct"))
        _contact(d, "Receptie", "other", None, ("+31101110002", "algemeen nummer", "switchboard"))
        disputed = _invoice(session, d, "F2026-0501", today, age=40, term=14, amount="2420.00",
                            method="pakketdienst", desc="Papier, 40 pallets")
        _invoice(session, d, "F2026-0533", today, age=10, term=14, amount="363.00", method="pakketdienst",
                 desc="Inkt")
        session.add(Complaint(debtor_id=d.id, status="open", opened_on=today - timedelta(days=10),
                              summary="Drie pallets papier kwamen beschadigd aan", invoices=[disputed]))
        created.append(d.ref)

    if d := _debtor(session, "D-1004", "Brightside Trading Ltd", now=now, kind="company", country="GB",
                    language="en", timezone="Europe/London", customer_since=today - timedelta(days=100)):
        _contact(d, "Emily Clarke", "credit_manager", "accounts@brightside.example",
                 ("+442071110001", "direct line", "direct"))
        _invoice(session, d, "F2026-0520", today, age=50, term=30, amount="3150.00", method="courier",
                 desc="Shop fittings")
        _invoice(session, d, "F2026-0561", today, age=10, term=14, amount="540.00", method="courier")
        created.append(d.ref)

    if d := _debtor(session, "D-1005", "Fietsenmaker Bos", now=now, kind="person", country="NL", language="nl",
                    customer_since=today - timedelta(days=4 * 365)):
        _contact(d, "Henk Bos", "owner", "henk@fietsenbos.example", ("+31501110001", "mobiel", "direct"))
        _invoice(session, d, "F2026-0540", today, age=45, term=30, amount="12.50", method="afgehaald",
                 desc="Binnenband")
        created.append(d.ref)
    return created


def give_phone(session: Session, supervisor_line: str) -> None:
    """The demo supervisor's phone (its port changes every run), so chef can listen in from the wallboard."""
    user = find_user(session, "chef")
    if user is not None:
        user.agent_line = supervisor_line


def real_users(session: Session) -> list[str]:
    """The users of this database the demo did not make: a demo must never run on their database."""
    return list(session.scalars(select(User.name).where(User.demo.is_(False)).order_by(User.name)))
