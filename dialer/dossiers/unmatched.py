"""Bank credits that could not be matched to a debtor with certainty, waiting for a supervisor to assign them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import Cents, UTCDateTime

STATUSES = ("open", "assigned", "dismissed")


class UnmatchedPayment(Base):
    """One credit from a bank statement, as the bank described it, and why it was not matched."""

    __tablename__ = "unmatched_payments"
    __table_args__ = (Index(None, "status", "booked_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The same key a matched credit's payments carry: importing the statement again adds nothing.
    natural_key: Mapped[str] = mapped_column(String(255), unique=True)
    account: Mapped[str] = mapped_column(String(34))  # our account the credit was booked on
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Cents)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    counter_iban: Mapped[str | None] = mapped_column(String(34))
    counter_name: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(64))  # the structured payment reference, as given
    remittance: Mapped[str | None] = mapped_column(Text)  # the free text
    entry_ref: Mapped[str] = mapped_column(String(128))  # the bank's reference of the entry
    reason: Mapped[str] = mapped_column(String(32))  # why it was not matched (banking.matching.REASONS)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(255))  # the statement file's name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
