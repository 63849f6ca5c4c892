"""Per agent, the generation of their calendar feed's address: revoking it makes every earlier address stop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..storage.base import Base
from ..storage.columns import UTCDateTime


class FeedKey(Base):
    """An agent whose feed address was revoked at least once: the generation their address now carries."""

    __tablename__ = "feed_keys"

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)


def generation(session: Session, agent: str) -> int:
    """The generation of `agent`'s feed address (0 until it is first revoked)."""
    row = session.get(FeedKey, agent)
    return row.generation if row is not None else 0


def revoke(session: Session, agent: str, *, now: datetime) -> int:
    """End `agent`'s current feed address (the caller commits); the new generation."""
    row = session.get(FeedKey, agent, with_for_update=True)
    if row is None:
        row = FeedKey(agent=agent, generation=0, revoked_at=now)
        session.add(row)
    row.generation += 1
    row.revoked_at = now
    session.flush()
    return row.generation
