"""The claim table: which agent is calling which dossier, until when, and how its last call ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime


class DossierClaim(Base):
    """One row per dossier ever claimed; live while `expires_at` is in the future."""

    __tablename__ = "dossier_claims"
    __table_args__ = (Index(None, "agent"), Index(None, "last_ended_at"))

    # A row stays after its claim ends, so claimers lock an existing row (SKIP LOCKED needs one to skip).
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    agent: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The dossier's last call through the dialer: how the queue finds due retries among a million dossiers.
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(24))
    last_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
