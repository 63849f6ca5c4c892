"""Who we call: debtors, their contacts with roles, and the contacts' phone numbers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..storage.base import Base
from ..storage.columns import UTCDateTime

KINDS = ("company", "person")
ROLES = ("owner", "credit_manager", "bookkeeper", "other")
PHONE_KINDS = ("direct", "switchboard")


class Debtor(Base):
    """A customer who owes money: a company or a person, known by the accounting system's reference."""

    __tablename__ = "debtors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="company")
    country: Mapped[str] = mapped_column(String(2), default="NL")
    region: Mapped[str | None] = mapped_column(String(16))  # state/province where rules differ (US-MA)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the country's (or the team's) zone
    customer_since: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    written_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    insolvent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    payment_day: Mapped[int | None] = mapped_column(Integer)  # known income/payment day of the month
    income_note: Mapped[str | None] = mapped_column(Text)  # e.g. "paid by the municipality on the 25th"
    notes: Mapped[str | None] = mapped_column(Text)
    policy: Mapped[str | None] = mapped_column(String(64))  # contact policy pack, None: chosen by country
    priority_boost: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Who the debtor is to the bank and the tax office: matches statement credits and e-invoices' buyers.
    iban: Mapped[str | None] = mapped_column(String(34), index=True)  # compact, validated (ISO 13616)
    vat_number: Mapped[str | None] = mapped_column(String(32), index=True)  # compact, with country prefix
    company_number: Mapped[str | None] = mapped_column(String(32))  # KvK (NL) or KBO/BCE (BE), compact
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    contacts: Mapped[list[Contact]] = relationship(back_populates="debtor", cascade="all, delete-orphan",
                                                   order_by="Contact.id")

    def __repr__(self) -> str:
        return f"<Debtor {self.ref} {self.name!r}>"


class Contact(Base):
    """A person at the debtor we may speak to, with their role."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("debtor_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="other")
    email: Mapped[str | None] = mapped_column(String(254))

    debtor: Mapped[Debtor] = relationship(back_populates="contacts")
    phones: Mapped[list[Phone]] = relationship(back_populates="contact", cascade="all, delete-orphan",
                                               order_by="Phone.id")


class Phone(Base):
    """One number of a contact: E.164, a label, and whether it is a direct line."""

    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("contact_id", "number"), Index(None, "number"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="direct")
    # RFC 5079: this line answered 433 to an anonymous call; present the ID from now on.
    refuses_anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    contact: Mapped[Contact] = relationship(back_populates="phones")
