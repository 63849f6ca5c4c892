"""Live events across coordinators: each one's events sent with PostgreSQL NOTIFY, the others' heard by LISTEN.

A team on several machines shares one PostgreSQL. An agent's panel is served by the coordinator that holds
the agent's desk, but a call-back may be fired by another coordinator's scheduler, and a wallboard shows the
whole floor: so every coordinator relays the events it publishes, and delivers the ones it hears from the
others to its own panels. Delivery is at most once per coordinator (a notification carries its origin, and
a coordinator ignores its own); events published while the connection is down are dropped and logged (the
wallboard reloads the whole floor every 30 s, the panel asks for its state on reconnect).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from .events import EventHub, LiveEvent

log = logging.getLogger(__name__)

CHANNEL = "belblok_events"
PAYLOAD_LIMIT = 7900  # PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more
RETRY_S = (0.5, 1.0, 2.0, 5.0)  # reconnect delays, the last one repeated
SETTINGS = {"autocommit": True, "application_name": "belblok-event-relay"}


def encode(origin: str, event: LiveEvent) -> str | None:
    """The notification's payload, or None when the event is too large to relay."""
    payload = json.dumps({"origin": origin, "event": event.to_json()}, ensure_ascii=False, default=str,
                         separators=(",", ":"))
    return payload if len(payload.encode()) <= PAYLOAD_LIMIT else None


def decode(payload: str) -> tuple[str, LiveEvent]:
    """(origin, event) from a notification's payload; ValueError if it is not one of ours."""
    data = json.loads(payload)
    fields: dict[str, Any] = dict(data["event"])
    fields["at"] = datetime.fromisoformat(fields["at"])
    return str(data["origin"]), LiveEvent(**fields)


class EventRelay:
    """Relays this coordinator's live events to the others on one PostgreSQL database, and theirs to its hub."""

    def __init__(self, hub: EventHub, engine: Engine) -> None:
        self.hub = hub
        _args, params = engine.dialect.create_connect_args(engine.url)
        self.params = {**params, **SETTINGS}
        self.origin = uuid.uuid4().hex  # not the node name: two coordinators may share a host and a process id
        self.sent = self.heard = self.dropped = 0
        self._outgoing: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Begin relaying; returns once this coordinator listens (or its first attempt failed, logged)."""
        self.hub.observers.append(self._observe)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._send(), name="relay-send"),
                       loop.create_task(self._listen(), name="relay-listen")]
        try:
            await asyncio.wait_for(self._listening.wait(), 10)
        except TimeoutError:
            log.warning("event relay: not listening yet; events of other coordinators arrive once it is")

    async def stop(self) -> None:
        """Stop relaying."""
        if self._observe in self.hub.observers:
            self.hub.observers.remove(self._observe)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _observe(self, event: LiveEvent) -> None:
        # Inside EventHub.publish, on the loop: never blocks; the sender task does the NOTIFY.
        try:
            self._outgoing.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _send(self) -> None:
        attempt = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(**self.params) as connection:
                    attempt = 0
                    while True:
                        event = await self._outgoing.get()
                        payload = encode(self.origin, event)
                        if payload is None:
                            self.dropped += 1
                            log.warning("event relay: %s event of %s too large to relay", event.kind, event.agent)
                            continue
                        await connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                        self.sent += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry, the panels keep working on this node
                log.warning("event relay: sending stopped (%s); retrying", exc)
                await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1

    async def _listen(self) -> None:
        attempt = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(**self.params) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    attempt = 0
                    async for notice in connection.notifies():
                        self._deliver(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event relay: listening stopped (%s); retrying", exc)
                await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1

    def _deliver(self, payload: str) -> None:
        try:
            origin, event = decode(payload)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("event relay: not an event (%s)", exc)
            return
        if origin != self.origin:
            self.heard += 1
            self.hub.publish(event, relayed=True)
