"""Dialling sessions: an agent works the queue in a block, in preview or power mode, with pause and end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..calls.desk import Desk
from ..live.events import EventHub, LiveEvent
from ..queue.claims import claim_first, release, release_all
from ..queue.order import Entry
from .dialing import DialledCall, DialRefused, DossierDialer
from .timer import LoopTimer, ManualHandle, ManualTimer, Timer, TimerHandle

__all__ = ["MODES", "PREVIEW_DEPTH", "STATES", "DialSession", "DialSessions", "LoopTimer", "ManualHandle",
           "ManualTimer", "SessionRefused", "Timer", "TimerHandle"]

log = logging.getLogger(__name__)

MODES = ("preview", "power")
# idle → ready (a dossier previewed, claimed) → dialing → wrap_up → ready …; waiting: nothing to call now
STATES = ("idle", "ready", "waiting", "dialing", "wrap_up", "paused", "ended")
PREVIEW_DEPTH = 30  # how many queue entries are tried when claiming the next one


class SessionRefused(Exception):
    """The session cannot do that now (outside a block, paused, ended, …); the message says why."""


class DialSession:
    """One agent's session: their agent line stays up; the head of their queue is claimed and previewed."""

    def __init__(self, agent: str, dialer: DossierDialer, *, desk: Desk | None = None, mode: str = "preview",
                 timer: Timer | None = None, clock: Callable[[], datetime] | None = None,
                 ring_timeout_s: float | None = None) -> None:
        if mode not in MODES:
            raise SessionRefused(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.agent, self.dialer, self.mode = agent, dialer, mode
        self.desk = desk or dialer.switchboard.desk(agent)
        self.timer = timer or LoopTimer()
        self.clock = clock or dialer.clock
        self.ring_timeout_s = ring_timeout_s
        self.status = "idle"
        self.current: Entry | None = None
        self.call: DialledCall | None = None
        self.message = ""
        self._armed: TimerHandle | None = None
        self._following: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def hub(self) -> EventHub:
        """Where the session's events go."""
        return self.dialer.hub

    async def start(self) -> dict[str, Any]:
        """Open the agent line and preview the first dossier; SessionRefused outside a block (bar appointments)."""
        if self.status != "idle":
            raise SessionRefused(f"the session of {self.agent} has already started ({self.status})")
        current, coming = await asyncio.to_thread(self.dialer.blocks_now, self.clock())
        if current is None and not await self._appointments_due():
            when = f"; the next block opens {coming.opens.isoformat()}" if coming else ""
            raise SessionRefused(f"outside a calling block: queue dialling is not allowed now{when}")
        await self.desk._ensure_started()  # the agent line is called once and stays up for the session
        self.status = "waiting"
        self._publish("session", detail={"event": "started", "mode": self.mode})
        await self.preview()
        return self.state()

    async def preview(self) -> Entry | None:
        """Release what was previewed, claim the head of the queue and show it (power mode: arm the timer)."""
        async with self._lock:
            self._require("idle", "waiting", "ready", "wrap_up")
            self._disarm()
            await self._release_current()
            now = self.clock()
            queue = await asyncio.to_thread(self.dialer.query.queue, self.agent, now, limit=PREVIEW_DEPTH)
            candidates = [e for e in queue.entries if queue.block is not None or e.kind == "callback"]
            chosen_id = await asyncio.to_thread(claim_first, self.dialer.engine, self.agent,
                                                [e.debtor_id for e in candidates], now=now,
                                                minutes=self.dialer.cfg.queue.claim_minutes)
            self.current = next((e for e in candidates if e.debtor_id == chosen_id), None)
            if self.current is None:
                self.status = "waiting"
                self.message = "nothing to call now" if queue.block else "outside a calling block"
                self._publish("preview", detail={"entry": None, "message": self.message})
                return None
            self.status, self.message = "ready", ""
            self._publish("preview", debtor_ref=self.current.debtor, number=self.current.number,
                          detail={"entry": self.current.to_json()})
            if self.mode == "power":
                self._arm()
            return self.current

    async def dial_next(self) -> int:
        """Dial the previewed dossier (deciding again now); a refusal previews the next one and is raised."""
        async with self._lock:
            self._require("ready")
            self._disarm()
            entry = self.current
            assert entry is not None
            try:
                call = await self.dialer.dial(entry.debtor, self.agent, ring_timeout_s=self.ring_timeout_s,
                                              release_after=False)
            except DialRefused as refused:
                self.message = str(refused)
                self.status = "waiting"
                refusal = refused
            else:
                self.call, self.status = call, "dialing"
                self._following = asyncio.ensure_future(self._follow(call))
                return call.attempt_id
        await self.preview()  # outside the lock: preview takes it
        raise refusal

    async def pause(self) -> dict[str, Any]:
        """Stop dialling (a call under way goes on); the previewed dossier is released for others."""
        async with self._lock:
            self._require("waiting", "ready", "wrap_up", "dialing")
            self._disarm()
            if self.status != "dialing":
                await self._release_current()
            self.status = "paused"
            self._publish("session", detail={"event": "paused"})
            return self.state()

    async def resume(self) -> dict[str, Any]:
        """Carry on: preview the head of the queue again."""
        async with self._lock:
            self._require("paused")
            self.status = "waiting"
            self._publish("session", detail={"event": "resumed"})
        await self.preview()
        return self.state()

    async def end(self) -> dict[str, Any]:
        """End the session: hang up, release every claim, close the agent line."""
        async with self._lock:
            self._disarm()
            self.status = "ended"
            await self.desk.close()
            await asyncio.to_thread(release_all, self.dialer.engine, self.agent)
            self.current = None
            self._publish("session", detail={"event": "ended"})
            return self.state()

    def state(self) -> dict[str, Any]:
        """What the panel shows: mode, state, the previewed dossier, the call under way."""
        return {"agent": self.agent, "mode": self.mode, "state": self.status, "message": self.message,
                "entry": self.current.to_json() if self.current else None,
                "attempt_id": self.call.attempt_id if self.call else None,
                "power_delay_s": self.dialer.cfg.queue.power_delay_s,
                "timer_armed": self._armed is not None}

    async def settled(self) -> None:
        """Wait until the call under way has ended and the session has moved on (wrap-up, power: next preview)."""
        if self._following is not None:
            await asyncio.shield(self._following)

    async def _follow(self, call: DialledCall) -> None:
        try:
            await asyncio.wait([call.done])
            async with self._lock:
                if self.status != "dialing":
                    return
                self.status = "wrap_up"
                self._publish("session", detail={"event": "wrap_up"})
            if self.mode == "power":
                await self.preview()  # the countdown runs while the agent wraps up
        except Exception:  # a background task: never let it vanish
            log.exception("session of %s: after the call", self.agent)

    async def _appointments_due(self) -> bool:
        queue = await asyncio.to_thread(self.dialer.query.queue, self.agent, self.clock(), limit=PREVIEW_DEPTH)
        return any(e.kind == "callback" for e in queue.entries)

    async def _release_current(self) -> None:
        if self.current is not None:
            await asyncio.to_thread(release, self.dialer.engine, self.current.debtor_id, self.agent)
            self.current = None

    def _arm(self) -> None:
        async def fire() -> None:
            self._armed = None
            try:
                await self.dial_next()
            except (DialRefused, SessionRefused) as exc:
                log.info("power dialling for %s: %s", self.agent, exc)
            except Exception:
                log.exception("power dialling for %s failed", self.agent)

        self._armed = self.timer.start(self.dialer.cfg.queue.power_delay_s, fire)

    def _disarm(self) -> None:
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None

    def _require(self, *states: str) -> None:
        if self.status not in states:
            raise SessionRefused(f"the session of {self.agent} is {self.status}: cannot do that now")

    def _publish(self, kind: str, **fields: Any) -> None:
        self.hub.publish(LiveEvent(agent=self.agent, kind=kind, at=self.clock(), **fields))


class DialSessions:
    """The dialling sessions of this coordinator, one per agent: what the panel starts, drives and ends."""

    def __init__(self, dialer: DossierDialer, *, timer: Timer | None = None) -> None:
        self.dialer, self.timer = dialer, timer
        self._sessions: dict[str, DialSession] = {}

    async def start(self, agent: str, mode: str = "preview", *, ring_timeout_s: float | None = None) -> DialSession:
        """Start the agent's session (SessionRefused outside a block, or if one is running)."""
        running = self._sessions.get(agent)
        if running is not None and running.status != "ended":
            raise SessionRefused(f"{agent} already has a session ({running.status})")
        session = DialSession(agent, self.dialer, mode=mode, timer=self.timer, ring_timeout_s=ring_timeout_s)
        await session.start()
        self._sessions[agent] = session
        return session

    def get(self, agent: str) -> DialSession:
        """The agent's session (SessionRefused if there is none)."""
        session = self._sessions.get(agent)
        if session is None or session.status == "ended":
            raise SessionRefused(f"{agent} has no dialling session: start one in a calling block")
        return session

    async def follow_choice(self, agent: str, state: str) -> None:
        """The agent paused or became ready on the floor: their session, if any, pauses or carries on."""
        session = self._sessions.get(agent)
        if session is None or session.status in ("idle", "ended"):
            return
        if state in ("paused", "offline") and session.status != "paused":
            await session.pause()  # power mode never dials a paused agent: a paused session dials nothing
        elif state == "ready" and session.status == "paused":
            await session.resume()

    def states(self) -> list[dict[str, Any]]:
        """Every session's state (the supervisor's view)."""
        return [s.state() for s in self._sessions.values() if s.status != "ended"]

    async def close(self) -> None:
        """End every session."""
        for session in list(self._sessions.values()):
            if session.status != "ended":
                await session.end()
        self._sessions.clear()
