"""Panel presence shared between coordinators: who has a panel open anywhere, by heartbeat in the database."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ..core.clock import utcnow
from ..storage.base import Base
from ..storage.columns import UTCDateTime
from .events import EventHub

log = logging.getLogger(__name__)

BEAT = timedelta(seconds=20)  # how often each coordinator says whose panels it holds
STALE = 3 * BEAT  # a coordinator silent this long (stopped, killed) no longer vouches for anyone


def default_node() -> str:
    """This coordinator's name (`claimed_by`, presence): host and process id, at most 64 characters."""
    pid = f":{os.getpid()}"
    return socket.gethostname()[:64 - len(pid)] + pid


class PanelPresence(Base):
    """One agent's panel held open by one coordinator, as of its last heartbeat."""

    __tablename__ = "panel_presence"

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    node: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Presence:
    """This coordinator's panels (its EventHub) plus every other coordinator's, from their heartbeats."""

    def __init__(self, sessions: sessionmaker[Session], hub: EventHub, node: str, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.hub, self.node, self.clock = sessions, hub, node, clock

    def beat(self, now: datetime | None = None) -> list[str]:
        """Record whose panels are open here now; forget those closed (blocking: run it off the loop)."""
        now = now or self.clock()
        agents = sorted(a for a in self.hub.agents() if a != "*")
        with self.sessions.begin() as session:
            session.execute(delete(PanelPresence).where(PanelPresence.node == self.node,
                                                        PanelPresence.agent.not_in(agents)))
            if agents:
                insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
                rows = [{"agent": a, "node": self.node, "seen_at": now} for a in agents]
                statement = insert(PanelPresence).values(rows)
                session.execute(statement.on_conflict_do_update(index_elements=["agent", "node"],
                                                                set_={"seen_at": statement.excluded.seen_at}))
            session.execute(delete(PanelPresence).where(PanelPresence.seen_at < now - 10 * STALE))
        return agents

    def present(self, session: Session, agent: str, now: datetime) -> bool:
        """Whether `agent` has a panel open here, or on a coordinator that beat within STALE."""
        if self.hub.subscribers(agent):
            return True
        seen = session.scalar(select(PanelPresence.seen_at).where(
            PanelPresence.agent == agent, PanelPresence.node != self.node, PanelPresence.seen_at >= now - STALE)
            .limit(1))
        return seen is not None

    def leave(self) -> None:
        """This coordinator stops: its panels are gone with it."""
        with self.sessions.begin() as session:
            session.execute(delete(PanelPresence).where(PanelPresence.node == self.node))
