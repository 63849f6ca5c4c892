"""The collector's case work: complaints, payment agreements with instalments, and notes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..storage.base import Base
from ..storage.columns import Cents, Percent, UTCDateTime
from .ledger import Invoice

COMPLAINT_STATUSES = ("open", "resolved")
AGREEMENT_STATUSES = ("open", "kept", "broken")

complaint_invoices = Table(
    "complaint_invoices",
    Base.metadata,
    Column("complaint_id", ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True),
)

agreement_invoices = Table(
    "agreement_invoices",
    Base.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Complaint(Base):
    """A complaint or dispute (klacht): blocks collection of the invoices it concerns until resolved."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    summary: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)

    invoices: Mapped[list[Invoice]] = relationship(secondary=complaint_invoices)


class Agreement(Base):
    """A promise to pay (betalingsafspraak): amount, date, maybe instalments; open, kept or broken."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Cents)
    discount_pct: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0.00"), server_default="0")
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    conditional_on_complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="SET NULL"))
    # Indexed: a recording registered after the wrap-up finds the agreement of its call.
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    agent: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # a day's promises, for the reports

    instalments: Mapped[list[Instalment]] = relationship(cascade="all, delete-orphan", order_by="Instalment.seq")
    # Every invoice it covers; invoice_id above names one only when there is exactly one.
    invoices: Mapped[list[Invoice]] = relationship(secondary=agreement_invoices,
                                                   order_by=[Invoice.due_date, Invoice.number])


class Instalment(Base):
    """One part of an agreement paid in instalments."""

    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Cents)
    due_date: Mapped[date] = mapped_column(Date)


class Note(Base):
    """A note on a dossier, often taken during a call."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    author: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
