"""The floor: every agent's state, shared between coordinators, and each state's interval kept for reports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ..core.clock import utcnow
from ..storage import daybook
from ..storage.base import Base
from ..storage.columns import UTCDateTime
from .events import EventHub, LiveEvent
from .states import AgentState, after_event, chosen

log = logging.getLogger(__name__)


class CurrentState(Base):
    """One agent's state now (one row per agent, written by whichever coordinator holds the agent)."""

    __tablename__ = "agent_states"

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    debtor_ref: Mapped[str | None] = mapped_column(String(64))
    attempt_id: Mapped[int | None] = mapped_column(Integer)


class StateInterval(Base):
    """A stretch of time one agent spent in one state; `ended_at` is empty while it lasts."""

    __tablename__ = "agent_state_intervals"
    __table_args__ = (Index("ix_agent_state_intervals_agent_started", "agent", "started_at"),
                      Index("ix_agent_state_intervals_started", "started_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _as_state(row: CurrentState) -> AgentState:
    return AgentState(row.agent, row.state, row.since, row.code, row.debtor_ref, row.attempt_id)


def record(session: Session, agent: str, state: str, now: datetime, *, code: str | None = None,
           debtor_ref: str | None = None, attempt_id: int | None = None) -> AgentState:
    """Store a change: the open interval closed at `now`, a new one opened, the current row replaced."""
    session.execute(update(StateInterval).where(StateInterval.agent == agent, StateInterval.ended_at.is_(None))
                    .values(ended_at=now))
    session.add(StateInterval(agent=agent, state=state, code=code, started_at=now))
    daybook.forget_since(session.connection(), now)
    row = session.get(CurrentState, agent, with_for_update=True)
    if row is None:
        row = CurrentState(agent=agent)
        session.add(row)
    row.state, row.code, row.since, row.debtor_ref, row.attempt_id = state, code, now, debtor_ref, attempt_id
    session.flush()
    return _as_state(row)


def load(session: Session, agent: str | None = None) -> list[AgentState]:
    """Every agent's current state (or one agent's), by name."""
    query = select(CurrentState).order_by(CurrentState.agent)
    if agent is not None:
        query = query.where(CurrentState.agent == agent)
    return [_as_state(row) for row in session.scalars(query)]


class Floor:
    """Agent states for this coordinator: set by the agent, moved by the call and session events, stored."""

    def __init__(self, sessions: sessionmaker[Session], hub: EventHub, pause_codes: frozenset[str], *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.hub, self.pause_codes, self.clock = sessions, hub, pause_codes, clock
        self._writes: asyncio.Queue[LiveEvent] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        hub.observers.append(self._observe)

    def now(self, agent: str) -> AgentState | None:
        """The agent's stored state."""
        with self.sessions() as session:
            found = load(session, agent)
        return found[0] if found else None

    def board(self) -> list[AgentState]:
        """Every agent's state."""
        with self.sessions() as session:
            return load(session)

    async def choose(self, agent: str, state: str, code: str | None = None,
                     now: datetime | None = None) -> AgentState:
        """What the agent asks for (ready, paused with a code, offline): StateRefused if not allowed now."""
        await self.settled()  # the call events seen so far first: they decide whether the agent is on a call
        stored = await asyncio.to_thread(self._choose, agent, state, code, now or self.clock())
        self._announce(stored)
        return stored

    def _choose(self, agent: str, state: str, code: str | None, now: datetime) -> AgentState:
        with self.sessions.begin() as session:
            current = session.get(CurrentState, agent, with_for_update=True)
            checked = chosen(_as_state(current) if current else None, state, code, self.pause_codes)
            return record(session, agent, state, now, code=checked)

    def follow(self, event: LiveEvent) -> AgentState | None:
        """Apply one call or session event to its agent's state (blocking: run it off the loop)."""
        if event.agent == "*" or event.kind == "agent_state":
            return None
        with self.sessions.begin() as session:
            current = session.get(CurrentState, event.agent, with_for_update=True)
            state = after_event(_as_state(current) if current else None, event.kind, event.detail)
            if state is None or (current is not None and current.state == state and state not in ("dialing",)):
                return None
            on_call = state in ("dialing", "ringing", "talking", "wrap_up")
            keep = on_call and state != "dialing" and current is not None
            stored = record(session, event.agent, state, event.at,
                            debtor_ref=(event.debtor_ref or (current.debtor_ref if keep else None)) if on_call else None,
                            attempt_id=(event.attempt_id or (current.attempt_id if keep else None)) if on_call else None)
        return stored

    async def settled(self) -> None:
        """Wait until every event seen so far has been applied (tests, shutdown)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop following events (what was seen is applied first)."""
        await self.settled()
        if self._observe in self.hub.observers:
            self.hub.observers.remove(self._observe)
        if self._worker is not None:
            self._worker.cancel()

    def _observe(self, event: LiveEvent) -> None:
        # Called inside EventHub.publish on the loop: queue it; one task applies them in order, off the loop.
        if event.agent == "*" or event.kind == "agent_state":
            return
        self._idle.clear()
        self._writes.put_nowait(event)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._apply())

    async def _apply(self) -> None:
        while not self._writes.empty():
            event = self._writes.get_nowait()
            try:
                stored = await asyncio.to_thread(self.follow, event)
            except Exception:  # a lost state change must not stop the floor; the next event corrects it
                log.exception("agent state of %s after %s", event.agent, event.kind)
                continue
            if stored is not None:
                self._announce(stored)
        self._idle.set()

    def _announce(self, state: AgentState) -> None:
        self.hub.publish(LiveEvent(agent=state.agent, kind="agent_state", at=state.since,
                                   debtor_ref=state.debtor_ref, attempt_id=state.attempt_id,
                                   detail=state.to_json()))
