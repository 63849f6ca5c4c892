"""What is owed and paid: invoices and payments, amounts exact."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import Cents, UTCDateTime


class Invoice(Base):
    """An invoice sent to a debtor, with what is still open on it."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("debtor_id", "number"), Index(None, "debtor_id", "due_date"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Cents)
    open_amount: Mapped[Decimal] = mapped_column(Cents)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    delivered_on: Mapped[date | None] = mapped_column(Date)
    delivery_method: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    # The reference the debtor is asked to pay with: betalingskenmerk, +++OGM+++ or RF creditor reference.
    payment_reference: Mapped[str | None] = mapped_column(String(64), index=True)  # compact: digits/letters only


class Payment(Base):
    """Money received from a debtor, against one invoice or on account."""

    __tablename__ = "payments"
    __table_args__ = (Index(None, "debtor_id", "date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"), index=True)
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Cents)
    # The bank's or bookkeeping's reference; with the other fields it makes re-imports idempotent.
    reference: Mapped[str] = mapped_column(String(128), default="")
    natural_key: Mapped[str] = mapped_column(String(255), unique=True)


class CreditNote(Base):
    """A credit note from the accounting package (UBL), lowering the invoice it refers to once."""

    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("debtor_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"), index=True)
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Cents)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
