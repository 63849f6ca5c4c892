"""Live events: what the coordinator tells the panels, fanned out per agent."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

QUEUE_LIMIT = 256  # a panel that stops reading loses old events, never blocks the dialer


@dataclass(frozen=True)
class LiveEvent:
    """One thing that happened on an agent's telephone (or for an agent), for the live panel."""

    agent: str
    kind: str  # agent_line | dialing | ringing | answered | ended | recording | refused | reminder | error | monitor
    at: datetime
    attempt_id: int | None = None
    debtor_ref: str | None = None
    contact_ref: str | None = None
    number: str | None = None
    withheld: bool = False
    outcome: str | None = None
    sip_code: int | None = None
    sip_reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (ISO time)."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


class EventHub:
    """In-process publish/subscribe of LiveEvents, keyed by agent ('*' hears everyone)."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[LiveEvent]]] = defaultdict(set)
        self.last: dict[str, LiveEvent] = {}
        self.monitoring: dict[str, LiveEvent] = {}  # per agent: the supervisor on their call now, if any
        self.observers: list[Callable[[LiveEvent], None]] = []  # told of every event first (the floor's states)

    def publish(self, event: LiveEvent, *, relayed: bool = False) -> None:
        """Deliver to the agent's and to '*' subscribers; a team event (agent '*') to everyone; never blocks.

        A `relayed` event comes from another coordinator (live.relay), which has stored and relayed it: the
        observers here are not told of it again.
        """
        if not relayed:
            for observe in self.observers:
                observe(event)
        previous = self.last.get(event.agent)
        # A late event of an older call (its recording) must not hide the state of the call after it.
        older = previous is not None and previous.attempt_id and event.attempt_id \
            and event.attempt_id < previous.attempt_id
        if event.kind not in ("agent_state", "monitor") and not older:
            self.last[event.agent] = event
        if event.kind == "monitor":  # kept apart, so a reloaded panel still says who is listening
            if event.detail.get("mode"):
                self.monitoring[event.agent] = event
            else:
                self.monitoring.pop(event.agent, None)
        elif event.kind in ("dialing", "ended"):
            self.monitoring.pop(event.agent, None)
        if event.agent == "*":
            targets = {q for queues in self._queues.values() for q in queues}
        else:
            targets = set(self._queues.get(event.agent, ())) | set(self._queues.get("*", ()))
        for queue in targets:  # a set: nobody hears an event twice
            if queue.full():
                queue.get_nowait()  # drop the oldest rather than stall the dialer
            queue.put_nowait(event)

    def listen(self, agent: str) -> asyncio.Queue[LiveEvent]:
        """A queue that receives `agent`'s events from this moment on; pair it with `unlisten`."""
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_LIMIT)
        self._queues[agent].add(queue)
        return queue

    def unlisten(self, agent: str, queue: asyncio.Queue[LiveEvent]) -> None:
        """Stop delivering to a queue from `listen`."""
        self._queues[agent].discard(queue)

    async def subscribe(self, agent: str) -> AsyncIterator[LiveEvent]:
        """Events for `agent` from now on, until the consumer stops iterating."""
        queue = self.listen(agent)
        try:
            while True:
                yield await queue.get()
        finally:
            self.unlisten(agent, queue)

    def agents(self) -> list[str]:
        """Agents with at least one live subscription (their panel is open)."""
        return [agent for agent, queues in self._queues.items() if queues]

    def subscribers(self, agent: str) -> int:
        """How many live subscriptions an agent has (a panel open means at least one)."""
        return len(self._queues.get(agent, ()))
