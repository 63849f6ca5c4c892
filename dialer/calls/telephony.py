"""Telephony: places calls through a softphone worker and journals every step in the call log."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from softphone.client import Worker, WorkerError, WorkerSettings
from softphone.handle import CallHandle
from softphone.protocol import CallEvent

from ..calllog.journal import CallLog
from ..queue.claims import note_attempt
from ..recordings.store import RecordingStore
from ..settings.config import Config

log = logging.getLogger(__name__)


def coordinator_id() -> str:
    """This coordinator process as host:pid, stored on the attempts it owns."""
    return f"{socket.gethostname()}:{os.getpid()}"


def coordinator_alive(ident: str) -> bool:
    """True unless `ident` names a dead process on this host (other hosts: assume alive)."""
    host, _, pid = ident.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


class AgentLineError(RuntimeError):
    """The agent's own phone could not be reached."""


@dataclass(frozen=True)
class DialRequest:
    """One call to place: an E.164 number and how to place it."""

    number: str
    withhold: bool = False
    ring_timeout_s: float | None = None
    hangup_after_s: float | None = None
    agent: str | None = None
    debtor_ref: str | None = None
    contact_ref: str | None = None


def worker_settings(config: Config, name: str = "worker") -> WorkerSettings:
    """What a worker needs from the configuration."""
    sip = config.sip
    return WorkerSettings(
        trunk=sip.trunk, caller_id=sip.caller_id, transport=sip.transport, local_port=sip.local_port,
        username=sip.username or None, password=sip.secret() or None, registrar=sip.registrar_address,
        realm=sip.realm, no_response_timeout_s=sip.response_timeout_s,
        recording_dir=os.path.abspath(config.recording.dir), name=name,
        rtp_ports=sip.rtp_port_range, clock_rate=sip.clock_rate,
    )


class Telephony:
    """One worker (one agent line) plus the call log: the coordinator's telephone."""

    def __init__(self, config: Config, calllog: CallLog, *, name: str = "worker",
                 on_incoming: Callable[[CallHandle], None] | None = None) -> None:
        self.config = config
        self.calllog = calllog
        settings = worker_settings(config, name)
        if on_incoming is not None:  # incoming calls ring until the coordinator routes them
            settings = replace(settings, incoming="ask", ask_timeout_s=config.incoming.ask_timeout_s)
        self.worker = Worker(settings, on_incoming=on_incoming)
        self.coordinator = coordinator_id()
        self.agent_line: CallHandle | None = None
        self.recordings = RecordingStore(calllog._sessions)

    async def start(self) -> None:
        """Close the books on attempts of dead coordinators, then start the worker."""
        now = datetime.now(timezone.utc)
        stale = await asyncio.to_thread(self.calllog.interrupt_orphans, at=now, coordinator_alive=coordinator_alive)
        if stale:
            log.warning("marked %d attempt(s) of a stopped coordinator as interrupted: %s", len(stale), stale)
        await self.worker.start()

    async def stop(self) -> None:
        """Hang up and stop the worker."""
        await self.worker.stop()

    async def __aenter__(self) -> Telephony:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def open_agent_line(self, uri: str, ring_timeout_s: float | None = None) -> CallHandle:
        """Call the agent's phone and wait until it is answered."""
        timeout = ring_timeout_s or self.config.sip.ring_timeout_s
        handle = await self.worker.open_agent_line(uri, ring_timeout_s=timeout)
        async for event in handle.events():
            if event.kind == "answered":
                self.agent_line = handle
                return handle
            if event.kind == "ended":
                raise AgentLineError(f"the agent line {uri} was not answered: {event.outcome} "
                                     f"({event.sip_code} {event.sip_reason})")
        raise AgentLineError(f"the agent line {uri} ended without an answer")

    async def place(self, request: DialRequest) -> int:
        """Commit the attempt, dial, and journal the call to its end; returns the attempt id."""
        handle, attempt_id = await self.dial(request)
        await self.follow(handle, attempt_id)
        return attempt_id

    async def dial(self, request: DialRequest) -> tuple[CallHandle, int]:
        """Commit the attempt (`dialing`) before the INVITE leaves, then hand the call to the worker."""
        attempt_id = await asyncio.to_thread(
            self.calllog.open_attempt, number=request.number, caller_id=self.config.sip.caller_id,
            caller_id_withheld=request.withhold, at=datetime.now(timezone.utc), agent=request.agent,
            debtor_ref=request.debtor_ref, contact_ref=request.contact_ref, worker=self.worker.name,
            coordinator=self.coordinator,
        )
        try:
            handle = await self.worker.dial(
                request.number, withhold=request.withhold, ref=f"attempt-{attempt_id}",
                ring_timeout_s=request.ring_timeout_s or self.config.sip.ring_timeout_s,
                hangup_after_s=request.hangup_after_s,
                record=self.config.recording.policy == "all",
                announcement=self.announcement(),
            )
        except WorkerError as exc:
            await asyncio.to_thread(
                self.calllog.mark_ended, attempt_id, at=datetime.now(timezone.utc), outcome="failed",
                sip_code=None, sip_reason=f"worker refused the call: {exc}"[:128], sip_code_source="local",
            )
            raise
        return handle, attempt_id

    def announcement(self) -> str | None:
        """The recording announcement to play to the debtor on answer, if the policy records."""
        rec = self.config.recording
        if rec.policy == "none" or not rec.announcement:
            return None
        return os.path.abspath(rec.announcement)

    async def follow(self, handle: CallHandle, attempt_id: int) -> None:
        """Write each of the call's events to its attempt row, until the recording is final."""
        async for event in handle.events():
            try:
                await asyncio.to_thread(self.journal, attempt_id, event)
            except Exception:  # the call goes on; the log says what was lost
                log.exception("journalling %s for attempt %s failed", event.kind, attempt_id)

    def journal(self, attempt_id: int, event: CallEvent) -> None:
        """Write one call event to its attempt row (blocking: call it in a thread)."""
        at = _utc(event.at)
        if event.kind == "ringing":
            self.calllog.mark_ringing(attempt_id, at)
        elif event.kind == "answered":
            self.calllog.mark_answered(attempt_id, at)
        elif event.kind == "ended":
            self.calllog.mark_ended(
                attempt_id, at=at, outcome=event.outcome or "failed", sip_code=event.sip_code,
                sip_reason=event.sip_reason, sip_code_source=event.code_source, sip_call_id=event.sip_call_id,
            )
            # The queue's retry tier reads each dossier's last call: every path (queue, panel, incoming) notes it.
            try:
                note_attempt(self.calllog.engine, attempt_id)
            except Exception:  # the call log row is what counts; the queue's copy is refreshed by the next call
                log.exception("noting attempt %s on its dossier failed", attempt_id)
        elif event.kind == "recording" and event.recording:
            self.calllog.set_recording(attempt_id, event.recording)
            self.recordings.register(attempt_id, event.recording, at=at)
