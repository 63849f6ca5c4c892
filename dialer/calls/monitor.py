"""A supervisor on an agent's live call: listen, whisper, barge, stop — each logged on the call's attempt."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker

from softphone.client import Worker, WorkerError
from softphone.handle import CallHandle

from ..calllog.monitoring import ACTIONS, log_action

log = logging.getLogger(__name__)


class MonitorError(RuntimeError):
    """Monitoring cannot start or change; the message says why and what to do."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Monitor:
    """The supervisor leg of one desk: at most one supervisor at a time on the desk's current call."""

    def __init__(self, agent: str, worker: Worker, sessions: sessionmaker[Session],
                 publish: Callable[..., None], *, ring_timeout_s: float) -> None:
        self.agent = agent
        self._worker = worker
        self._sessions = sessions
        self._publish = publish
        self._ring_timeout_s = ring_timeout_s
        self.leg: CallHandle | None = None
        self.supervisor: str | None = None
        self.mode: str | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """True while a supervisor leg is up or being placed."""
        return self.leg is not None and not self.leg.ended

    async def act(self, call: CallHandle | None, attempt_id: int | None, *, supervisor: str,
                  phone: str | None, action: str) -> dict[str, object]:
        """Join `supervisor`'s `phone` to `call` in mode `action`, change the mode, or stop."""
        if action not in ACTIONS:
            raise MonitorError(f"unknown mode {action!r}: use one of {', '.join(ACTIONS)}")
        if action == "stop":
            return await self._stop(supervisor)
        if call is None or attempt_id is None or call.ended or call.state != "answered":
            raise MonitorError(f"agent {self.agent} is not in a conversation now: there is nothing to listen to")
        if not phone:
            raise MonitorError(f"{supervisor} has no phone in their profile: set one with "
                               f"`belblok user add {supervisor} --agent-line sip:…` (the SIP URI of their own phone)")
        if self.active and self.supervisor != supervisor:
            raise MonitorError(f"{self.supervisor} is already on this call; they must stop first")
        try:
            leg = await self._worker.monitor(call.ref, phone, action, ring_timeout_s=self._ring_timeout_s)
        except WorkerError as exc:
            if "no live bridged call" in str(exc):
                raise MonitorError(f"the call of agent {self.agent} has ended meanwhile") from None
            raise MonitorError(f"could not join the call: {exc}") from None
        await asyncio.to_thread(self._log, attempt_id, supervisor, action)
        joined = leg is not self.leg
        self.leg, self.supervisor, self.mode = leg, supervisor, action
        if joined:
            self._watch = asyncio.ensure_future(self._until_gone(leg, attempt_id, supervisor))
        self._publish("monitor", attempt_id=attempt_id, detail={"mode": action, "supervisor": supervisor})
        return {"agent": self.agent, "attempt_id": attempt_id, "mode": action, "supervisor": supervisor,
                "leg": leg.state}

    async def _stop(self, supervisor: str) -> dict[str, object]:
        leg = self.leg
        if leg is None or leg.ended:
            raise MonitorError(f"nobody is listening in on agent {self.agent}'s call")
        await leg.hangup()
        if self._watch is not None:
            await asyncio.shield(self._watch)  # the stop is logged and announced when the leg is down
        return {"agent": self.agent, "mode": "stop", "supervisor": supervisor, "leg": "ended"}

    async def _until_gone(self, leg: CallHandle, attempt_id: int, supervisor: str) -> None:
        """The leg ended (stopped, the call ended, or the supervisor hung up their phone): log and announce it."""
        try:
            await leg.result()
            await asyncio.to_thread(self._log, attempt_id, supervisor, "stop")
        except Exception:
            log.exception("monitoring of attempt %s: logging its end failed", attempt_id)
        if self.leg is leg:
            self.leg, self.supervisor, self.mode = None, None, None
        self._publish("monitor", attempt_id=attempt_id, detail={"mode": None, "supervisor": supervisor})

    def _log(self, attempt_id: int, supervisor: str, action: str) -> None:
        with self._sessions.begin() as session:
            log_action(session, attempt_id=attempt_id, supervisor=supervisor, agent=self.agent, action=action,
                       at=_now())
