"""An agent's desk telephone in the coordinator: their worker, agent line and current call."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from softphone.client import Worker, WorkerError, WorkerSettings
from softphone.handle import CallHandle
from softphone.reception import TRANSFER_HEADER

from ..calllog.journal import CallLog
from ..live.events import EventHub, LiveEvent
from ..settings.config import Config
from .monitor import Monitor
from .telephony import AgentLineError, DialRequest, Telephony, coordinator_id

log = logging.getLogger(__name__)


class DeskBusy(RuntimeError):
    """The agent is already on a call."""


@dataclass(frozen=True)
class CallTarget:
    """Who is being called: a number, and the dossier and contact it belongs to."""

    number: str
    debtor_ref: str | None = None
    contact_ref: str | None = None
    withhold: bool = False


def _now() -> datetime:
    return datetime.now(timezone.utc)


TrunkFor = Callable[[str], str]
TRANSFER_WINDOW_S = 30.0  # a forwarded call must reach the desk within this long of being announced


class RoutedWorker(Worker):
    """A worker that sends each number to the trunk (host:port) `trunk_for(number)` names."""

    def __init__(self, settings: WorkerSettings, trunk_for: TrunkFor,
                 on_incoming: Callable[[CallHandle], None] | None = None) -> None:
        super().__init__(settings, on_incoming=on_incoming)
        self.trunk_for = trunk_for

    async def dial(self, user: str, **options: Any) -> CallHandle:  # type: ignore[override]
        """Dial `user` at its own trunk (the options are Worker.dial's)."""
        uri = replace(self.settings, trunk=self.trunk_for(user)).uri_for(user)
        return await self.dial_uri(uri, **options)


class Desk:
    """One agent's telephone: dials through its own worker and publishes every change."""

    def __init__(self, agent: str, cfg: Config, calllog: CallLog, hub: EventHub,
                 agent_line: str | None = None, trunk_for: TrunkFor | None = None) -> None:
        self.agent = agent
        self.agent_line_uri = agent_line
        self.hub = hub
        self.calllog = calllog
        self.telephony = Telephony(cfg, calllog, name=f"desk-{agent}", on_incoming=self._incoming)
        if trunk_for is not None:  # e.g. the demo: one simulated line per behaviour, chosen by number
            self.telephony.worker = RoutedWorker(self.telephony.worker.settings, trunk_for, self._incoming)
        self.current: int | None = None
        self.target: CallTarget | None = None
        self._handle: CallHandle | None = None
        self._follow: asyncio.Task[None] | None = None
        self._tracks: set[asyncio.Task[None]] = set()  # calls still being journalled (recordings finishing)
        self._started = False
        self._lock = asyncio.Lock()
        self._expected: dict[str, tuple[CallTarget, float]] = {}  # transfer token → caller, deadline
        # Silent monitoring (where the team's rules allow it): the agent's panel is not told.
        tell = self._publish if cfg.wallboard.show_monitoring else (lambda *a, **k: None)
        self.monitor = Monitor(agent, self.telephony.worker, calllog._sessions, tell,
                               ring_timeout_s=cfg.sip.ring_timeout_s)

    @property
    def busy(self) -> bool:
        """True while a call of this desk has not ended (its recording may still be being finished)."""
        return self._handle is not None and not self._handle.ended

    async def _ensure_started(self) -> None:
        if self._started:
            return
        await self.telephony.start()
        self._started = True
        if self.agent_line_uri:
            await self._ensure_agent_line()

    async def _ensure_agent_line(self) -> None:
        line = self.telephony.agent_line
        if line is None or line.ended:
            if not self.agent_line_uri:
                raise AgentLineError(f"agent {self.agent} has no agent line configured ([agent] line)")
            await self.telephony.open_agent_line(self.agent_line_uri)
            self._publish("agent_line", detail={"uri": self.agent_line_uri, "state": "up"})

    def _publish(self, kind: str, *, attempt_id: int | None = None, target: CallTarget | None = None,
                 **fields: object) -> None:
        # A call's late events (its recording) may come after the next call started: name their own call.
        target = target or self.target
        self.hub.publish(LiveEvent(
            agent=self.agent, kind=kind, at=_now(), attempt_id=attempt_id or self.current,
            debtor_ref=target.debtor_ref if target else None, contact_ref=target.contact_ref if target else None,
            number=target.number if target else None, withheld=target.withhold if target else False,
            **fields))  # type: ignore[arg-type]

    async def dial(self, target: CallTarget, *, ring_timeout_s: float | None = None,
                   hangup_after_s: float | None = None) -> int:
        """Dial `target` now; returns the attempt id once the call is under way."""
        async with self._lock:
            if self.busy:
                raise DeskBusy(f"agent {self.agent} is already on a call")
            await self._ensure_started()
            self.target = target
            request = DialRequest(number=target.number, withhold=target.withhold, ring_timeout_s=ring_timeout_s,
                                  hangup_after_s=hangup_after_s, agent=self.agent, debtor_ref=target.debtor_ref,
                                  contact_ref=target.contact_ref)
            handle, attempt_id = await self.telephony.dial(request)
            self.current, self._handle = attempt_id, handle
            self._publish("dialing")
            self._follow_call(handle, attempt_id, target)
            return attempt_id

    def _follow_call(self, handle: CallHandle, attempt_id: int, target: CallTarget) -> None:
        self._follow = asyncio.ensure_future(self._track(handle, attempt_id, target))
        self._tracks.add(self._follow)
        self._follow.add_done_callback(self._tracks.discard)

    async def expect_transfer(self, target: CallTarget) -> tuple[str, str]:
        """Get ready for a call another worker forwards here: agent line up; returns (uri, token) for it."""
        async with self._lock:
            if self.busy:
                raise DeskBusy(f"agent {self.agent} is already on a call")
            await self._ensure_started()
            await self._ensure_agent_line()
            token = secrets.token_urlsafe(16)
            self._expected[token] = (target, time.monotonic() + TRANSFER_WINDOW_S)
            return f"sip:desk@127.0.0.1:{self.telephony.worker.local_port}", token

    def _incoming(self, handle: CallHandle) -> None:
        task = asyncio.ensure_future(self._take(handle))
        self._tracks.add(task)
        task.add_done_callback(self._tracks.discard)

    async def _take(self, handle: CallHandle) -> None:
        """A call reached this desk's worker: bridge it if it is the one we were told about, else refuse."""
        target, deadline = self._expected.pop(handle.transfer or "", (None, 0.0))
        try:
            if target is None or time.monotonic() > deadline:
                log.warning("desk %s: refused an incoming call nobody forwarded here (%s)", self.agent, handle.uri)
                await handle.route("reject", code=403)
                return
            async with self._lock:
                if self.busy:
                    await handle.route("reject", code=486)
                    return
                attempt_id = await asyncio.to_thread(
                    self.calllog.open_attempt, number=target.number, caller_id=self.telephony.config.sip.caller_id,
                    caller_id_withheld=False, at=_now(), agent=self.agent, debtor_ref=target.debtor_ref,
                    contact_ref=target.contact_ref, worker=self.telephony.worker.name,
                    coordinator=coordinator_id(), direction="in")
                self.target, self.current, self._handle = target, attempt_id, handle
                self._publish("ringing", detail={"direction": "in"})
                self._follow_call(handle, attempt_id, target)
                await handle.route("bridge", record=self.telephony.config.recording.policy == "all",
                                   announcement=self.telephony.announcement())
        except WorkerError as exc:  # the caller hung up meanwhile, or the worker is gone: nothing to bridge
            log.info("desk %s: incoming call %s not taken: %s", self.agent, handle.ref, exc)

    async def _track(self, handle: CallHandle, attempt_id: int, target: CallTarget) -> None:
        own = {"attempt_id": attempt_id, "target": target}
        try:
            async for event in handle.events():
                await asyncio.to_thread(self.telephony.journal, attempt_id, event)
                if event.kind in ("ringing", "answered"):
                    self._publish(event.kind, **own)
                elif event.kind == "ended":
                    self._publish("ended", outcome=event.outcome, sip_code=event.sip_code,
                                  sip_reason=event.sip_reason, **own)
                elif event.kind == "recording":
                    # The file stays on the server: the panel learns only that the call is recorded.
                    self._publish("recording", detail={"recorded": True}, **own)
        except Exception:
            log.exception("tracking attempt %s of %s failed", attempt_id, self.agent)
            self._publish("error", detail={"message": "lost track of the call; see the log"}, **own)

    async def supervise(self, supervisor: str, phone: str | None, action: str) -> dict[str, object]:
        """A supervisor listens in on, whispers to, barges into, or leaves this desk's call (see Monitor)."""
        return await self.monitor.act(self._handle, self.current, supervisor=supervisor, phone=phone, action=action)

    async def start_recording(self) -> bool:
        """Record the current answered call from now on (on-demand recording); False if there is none."""
        handle = self._handle
        if handle is None or handle.ended or handle.state != "answered":
            return False
        return await handle.start_recording()

    def bookmark_point(self) -> tuple[int, float] | None:
        """(attempt id, seconds into its recording) for a bookmark now, or None if nothing is recorded."""
        handle, started = self._handle, self._handle.recording_started_at if self._handle else None
        if handle is None or handle.ended or started is None or self.current is None:
            return None
        return self.current, max(0.0, time.time() - started)

    async def wait_ended(self) -> None:
        """Wait until the current call (and its recording) is done."""
        if self._follow is not None:
            await asyncio.shield(self._follow)

    async def hangup(self) -> None:
        """Hang up the current call, if any."""
        if self._handle is not None and not self._handle.ended:
            await self._handle.hangup()

    async def close(self) -> None:
        """Hang up, stop the worker."""
        await self.hangup()
        if self._tracks:
            try:
                await asyncio.wait_for(asyncio.gather(*self._tracks), 10)
            except asyncio.TimeoutError:
                log.warning("desk %s: the last call did not finish in time", self.agent)
        if self._started:
            await self.telephony.stop()
            self._started = False


class Switchboard:
    """Every desk of this coordinator, created on first use."""

    def __init__(self, cfg: Config, calllog: CallLog, hub: EventHub, trunk_for: TrunkFor | None = None) -> None:
        self.cfg = cfg
        self.calllog = calllog
        self.hub = hub
        self.trunk_for = trunk_for
        self._desks: dict[str, Desk] = {}

    def desk(self, agent: str, agent_line: str | None = None) -> Desk:
        """The agent's desk (its agent line is taken from the first call that names one)."""
        desk = self._desks.get(agent)
        if desk is None:
            desk = self._desks[agent] = Desk(agent, self.cfg, self.calllog, self.hub,
                                             agent_line or self.cfg.agent.line or None, self.trunk_for)
        return desk

    async def put_through(self, agent: str, target: CallTarget, handle: CallHandle, *,
                          agent_line: str | None = None, ring_timeout_s: float = 20.0) -> str:
        """Forward a held incoming call to `agent`'s desk: connected | unavailable (still held) | failed (greeted)."""
        desk = self._desks.get(agent)
        if desk is None and (agent_line or self.cfg.agent.line):
            desk = self.desk(agent, agent_line)
        if desk is None or desk.busy:
            return "unavailable"
        try:
            uri, token = await desk.expect_transfer(target)
        except (DeskBusy, AgentLineError, WorkerError) as exc:
            log.info("cannot put %s through to %s: %s", target.number, agent, exc)
            return "unavailable"
        try:
            await handle.route("forward", uri=uri, headers={TRANSFER_HEADER: token}, ring_timeout_s=ring_timeout_s)
        except WorkerError as exc:  # the caller gave up while the agent line was being opened
            log.info("incoming call %s could not be forwarded: %s", handle.ref, exc)
            return "failed"
        async for event in handle.events():
            if event.kind == "forwarded":
                return "connected"
            if event.kind in ("forward_failed", "ended"):
                return "failed"
        return "failed"

    def find(self, agent: str) -> Desk | None:
        """The agent's desk on this coordinator, if it was opened."""
        return self._desks.get(agent)

    def desks(self) -> list[Desk]:
        """All desks opened so far."""
        return list(self._desks.values())

    async def close(self) -> None:
        """Close every desk."""
        await asyncio.gather(*(d.close() for d in self._desks.values()), return_exceptions=True)
        self._desks.clear()
