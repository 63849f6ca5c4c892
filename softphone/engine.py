"""The pjsua2 engine: one Endpoint, driven by one thread, fed by a command queue."""

from __future__ import annotations

import gc
import logging
import queue
import time
from collections import deque
from collections.abc import Callable

import pjsua2 as pj

from . import protocol as P
from .call import CallState, SoftCall, now
from .callerid import present
from .endpoint import SipStack
from .mixer import Mixer
from .monitoring import Monitoring
from .outbound import call_params, start_call
from .outcome import HangupCause, Outcome, classify
from .pacing import Pacer
from .reception import Parts, Reception

log = logging.getLogger(__name__)

Emit = Callable[[P.Message], None]
Placed = P.Dial | P.OpenAgentLine | P.Monitor  # the commands that place a call of ours
# How long one turn waits for SIP events before it looks at the command queue. Media runs on pjmedia's own
# threads, so this bounds only a command's latency; at 5 ms an idle worker spent 1.6 % of a core waking
# up, which is most of what a box of 50 agents spends (bench/capacity.py, docs/softphone.md).
EVENT_WAIT_MS = 20


class Engine:
    """Runs pjsua2 on the thread that calls `run()`; other threads only `submit()`."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._commands: queue.SimpleQueue[P.Message] = queue.SimpleQueue()
        self._stack: SipStack | None = None
        self._settings: P.Start | None = None
        self._calls: dict[str, SoftCall] = {}
        self._pending: deque[Placed] = deque()
        self._dead: list[SoftCall] = []
        self._mixer: Mixer | None = None
        self._monitoring: Monitoring | None = None
        self._announcements: dict[str, str] = {}
        self._agent_ref: str | None = None
        self._pacer = Pacer()
        self._stopping = False
        self._start_id: int | None = None
        self._reception: Reception | None = None
        self._shutdown_id = 0

    def submit(self, command: P.Message) -> None:
        """Queue a command for the pjsua2 thread (any thread may call this)."""
        self._commands.put(command)

    # -- the loop ---------------------------------------------------------

    def run(self) -> None:
        """Pump pjsua2 events and commands until a Shutdown command completes."""
        while not self._stopping:
            if self._stack is not None:
                self._stack.endpoint.libHandleEvents(EVENT_WAIT_MS)
            else:
                self._wait_for_command(0.05)
            self._drain_commands()
            self._check_deadlines()
            self._dispatch_pending()
            self._reap()
            if self._mixer is not None:
                self._mixer.merge_closed()
        self._shutdown()

    def _wait_for_command(self, timeout: float) -> None:
        try:
            self._handle(self._commands.get(timeout=timeout))
        except queue.Empty:
            pass

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._handle(command)

    def _handle(self, command: P.Message) -> None:
        cid = getattr(command, "id", 0)
        try:
            data = self._execute(command)
        except Exception as exc:  # one bad command must not kill the worker
            log.exception("command %s failed", command.type)
            self._emit(P.Reply(id=cid, ok=False, error=str(exc) or type(exc).__name__))
            return
        if data is not None:
            self._emit(P.Reply(id=cid, ok=True, data=data))

    def _execute(self, command: P.Message) -> dict | None:
        if isinstance(command, P.Start):
            return self._start(command)
        if isinstance(command, P.Ping):
            return {"live_calls": self._pacer.live, "queued": len(self._pending)}
        if isinstance(command, P.Shutdown):
            self._stopping = True
            self._shutdown_id = command.id
            return None  # replied to after the stack is down
        if self._stack is None:
            raise RuntimeError("the SIP stack is not started")
        if isinstance(command, (P.Dial, P.OpenAgentLine)):
            self._enqueue(command)
            return {"queued": len(self._pending)}
        if isinstance(command, P.Monitor):
            assert self._monitoring is not None
            return self._monitoring.request(command, self._enqueue)
        if isinstance(command, P.Hangup):
            return self._hangup(command.call, HangupCause.AGENT)
        if isinstance(command, P.RecordStart):
            return self._record_start(command.call)
        if isinstance(command, P.Route):
            assert self._reception is not None
            return self._reception.route(command)
        raise ValueError(f"unexpected command {command.type}")

    # -- start and registration --------------------------------------------

    def _start(self, cmd: P.Start) -> dict | None:
        if self._stack is not None:
            raise RuntimeError("already started")
        self._settings = cmd
        self._mixer = Mixer(cmd.recording_dir, self._emit)
        self._monitoring = Monitoring(self._calls, self._mixer, self._agent_audio)
        self._stack = SipStack(cmd, on_registration=self._on_registration, on_incoming=self._on_incoming)
        self._reception = Reception(Parts(
            stack=self._stack, settings=cmd, emit=self._emit, mixer=self._mixer, calls=self._calls,
            pacer=self._pacer, on_change=self._on_call_change, agent_audio=self._agent_audio,
            agent_free=self._agent_free, dead=self._dead))
        self._start_id = cmd.id
        if cmd.registrar:
            return None  # replied to when the registrar has answered
        return {"local_port": self._stack.local_port}

    def _on_registration(self, code: int, reason: str, active: bool) -> None:
        self._emit(P.Registration(active=active, code=code, reason=reason))
        if self._start_id is not None and self._stack is not None:
            start_id, self._start_id = self._start_id, None
            data = {"local_port": self._stack.local_port, "registration": {"code": code, "reason": reason}}
            self._emit(P.Reply(id=start_id, ok=True, data=data))

    def _on_incoming(self, call_id: int, message: str) -> None:
        assert self._reception is not None
        self._reception.arrive(call_id, message)

    # -- dialling -------------------------------------------------------------

    def _enqueue(self, cmd: Placed) -> None:
        if cmd.call in self._calls or any(p.call == cmd.call for p in self._pending):
            raise ValueError(f"call {cmd.call!r} already exists")
        self._pending.append(cmd)

    def _dispatch_pending(self) -> None:
        while self._pending and self._pacer.may_start(now()):
            self._place(self._pending.popleft())

    def _place(self, cmd: Placed) -> None:
        assert self._stack is not None and self._settings is not None and self._monitoring is not None
        dial = cmd if isinstance(cmd, P.Dial) else None
        role = "debtor" if dial else "agent" if isinstance(cmd, P.OpenAgentLine) else "monitor"
        state = CallState(
            ref=cmd.call,
            uri=cmd.uri,
            role=role,
            record=bool(dial and dial.record),
            bridge=bool(dial and dial.bridge),
            hangup_after_s=dial.hangup_after_s if dial else None,
            partner=self._monitoring.target_of(cmd.call),
        )
        withhold = bool(dial and dial.withhold)
        shown = present(self._settings.caller_id, self._stack.trunk_host, withhold=withhold)
        call, started, error = start_call(self._stack.account, state, self._on_call_change,
                                          call_params(shown.headers, shown.from_uri),
                                          no_response_s=self._settings.no_response_timeout_s, ring_s=cmd.ring_timeout_s)
        if error is not None:
            # Nothing left the machine; report it as a local failure of this call.
            self._emit(P.CallEvent(call=cmd.call, kind="ended", at=time.time(), sip_code=None,
                                   sip_reason=error, code_source="local", outcome="failed"))
            self._dead.append(call)
            self._monitoring.forget(cmd.call)
            return
        self._pacer.started(started)
        self._calls[cmd.call] = call
        if role == "agent":
            self._agent_ref = cmd.call
        elif dial and dial.announcement:
            self._announcements[cmd.call] = dial.announcement
        self._emit(P.CallEvent(call=cmd.call, kind="calling", at=time.time(), sip_call_id=call.getInfo().callIdString))

    def _hangup(self, ref: str, cause: HangupCause) -> dict:
        for pending in list(self._pending):
            if pending.call == ref:
                self._pending.remove(pending)
                assert self._monitoring is not None
                self._monitoring.forget(ref)
                self._emit(P.CallEvent(call=ref, kind="ended", at=time.time(), outcome="cancelled",
                                       sip_reason="cancelled before dialling", code_source="local"))
                return {"state": "cancelled"}
        call = self._calls.get(ref)
        if call is None:
            raise KeyError(f"no live call {ref!r}")
        if call.state.hangup_cause is HangupCause.NONE:
            call.state.hangup_cause = cause
        if not call.state.disconnected:
            call.hangup(pj.CallOpParam(True))  # runs onCallState(DISCONNECTED) inline
        return {"state": "hanging_up"}

    def _check_deadlines(self) -> None:
        t = now()
        for ref, call in list(self._calls.items()):
            cause = call.state.overdue(t)
            if cause is not None:
                self._hangup(ref, cause)
        if self._reception is not None:
            self._reception.check(t)

    # -- call state -------------------------------------------------------------

    def _on_call_change(self, call: SoftCall, change: str) -> None:
        s = call.state
        if change == "ringing" and s.role != "forward":
            self._emit(P.CallEvent(call=s.ref, kind="ringing", at=time.time(), sip_code=s.last_rx_code))
        elif change == "answered" and s.role == "forward":
            assert self._reception is not None
            self._reception.leg_answered(call)
        elif change == "answered":
            if s.hangup_after_s is not None:
                s.deadlines.hangup = now() + s.hangup_after_s
            self._emit(P.CallEvent(call=s.ref, kind="answered", at=time.time(), sip_code=200, sip_call_id=s.sip_call_id))
        elif change == "media":
            self._connect_media(call)
        elif change == "ended":
            self._ended(call)

    def _agent_free(self) -> bool:
        """The agent line is up and no other call is bridged onto it."""
        if self._agent_audio() is None:
            return False
        return not any(c.state.bridge and c.state.answered and not c.state.disconnected for c in self._calls.values())

    def _agent_audio(self) -> pj.AudioMedia | None:
        agent = self._calls.get(self._agent_ref or "")
        if agent is None or agent.state.disconnected or not agent.state.answered:
            return None
        return agent.audio

    def _connect_media(self, call: SoftCall) -> None:
        s = call.state
        assert self._mixer is not None and self._monitoring is not None
        if call.audio is None:
            return
        if s.role in ("incoming", "forward"):
            assert self._reception is not None
            self._reception.media(call)
        elif s.role == "debtor":
            agent = self._agent_audio() if s.bridge else None
            self._mixer.connect_debtor(call, agent, record=s.record, announcement=self._announcements.pop(s.ref, None))
        elif s.role == "monitor":
            self._monitoring.media(call)
        self._monitoring.refresh(s.ref)  # a supervisor already joined hears this call's audio from now on

    def _record_start(self, ref: str) -> dict:
        call = self._calls.get(ref)
        if call is None or call.state.disconnected or call.state.role not in ("debtor", "incoming"):
            raise KeyError(f"no live debtor call {ref!r}")
        if call.audio is None:
            raise RuntimeError(f"call {ref!r} has no audio yet")
        assert self._mixer is not None and self._monitoring is not None
        started = self._mixer.start_recording(call, self._agent_audio() if call.state.bridge else None)
        self._monitoring.refresh(ref)  # a barging supervisor is recorded from now on too
        return {"started": started}

    def _ended(self, call: SoftCall) -> None:
        s = call.state
        code, reason, source = call.final_code, call.final_reason, call.final_source
        if s.hangup_cause is HangupCause.NO_RESPONSE:
            # pjsip reports its own 487 here; what really happened is timer B's 408.
            code, reason = 408, f"No response from {s.uri} within the response timeout"
        outcome = classify(s.facts(code, source))
        if s.role == "incoming" and not s.answered:
            outcome = Outcome.DECLINED if s.rejected else Outcome.CANCELLED
        self._dead.append(call)
        assert self._monitoring is not None
        for leg in self._monitoring.legs_on(s.ref):  # nothing left to listen to
            self._hangup(leg, HangupCause.AGENT)
        if s.role in ("incoming", "forward"):
            assert self._reception is not None
            if s.role == "forward":  # our own leg: the caller's call reports what became of it
                self._reception.leg_ended(call, code, reason, outcome.value)
                return
            self._reception.caller_ended(call)
        self._emit(P.CallEvent(call=s.ref, kind="ended", at=time.time(), sip_code=code, sip_reason=reason,
                               code_source=source.value, outcome=outcome.value, sip_call_id=s.sip_call_id,
                               media=call.media_figures))
        if s.ref == self._agent_ref:
            self._agent_ref = None

    def _reap(self) -> None:
        """Drop finished calls on a later loop turn, never inside their own callback."""
        if not self._dead:
            return
        dead = list(self._dead)
        self._dead.clear()  # in place: the reception holds this list too
        for call in dead:
            ref = call.state.ref
            if self._calls.get(ref) is call:
                del self._calls[ref]
                self._pacer.released(now())
            self._announcements.pop(ref, None)
            if self._reception is not None:
                self._reception.forget(ref)
            if self._monitoring is not None:
                self._monitoring.forget(ref)
            if self._mixer is not None:
                self._mixer.finish(ref)
        del dead, call
        gc.collect()

    def _shutdown(self) -> None:
        for pending in list(self._pending):
            self._hangup(pending.call, HangupCause.SHUTDOWN)
        if self._stack is not None:
            for ref in list(self._calls):
                try:
                    self._hangup(ref, HangupCause.SHUTDOWN)
                except Exception:
                    log.exception("hangup of %s at shutdown failed", ref)
            deadline = now() + 5
            assert self._mixer is not None
            while (self._calls or self._mixer.busy) and now() < deadline:
                self._stack.endpoint.libHandleEvents(10)
                self._reap()
                self._mixer.merge_closed()
            self._mixer.shutdown()
            self._stack.destroy()
            self._stack = None
        self._emit(P.Reply(id=self._shutdown_id, ok=True, data={"shutdown": True}))
