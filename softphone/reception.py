"""A worker's reception: incoming calls answered, refused, or held ringing until a Route says where they go."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pjsua2 as pj

from . import protocol as P
from .call import CallState, SoftCall, now
from .endpoint import SipStack
from .mixer import Mixer
from .outbound import call_params, start_call
from .pacing import Pacer

log = logging.getLogger(__name__)

TRANSFER_HEADER = "X-Belblok-Transfer"
_TRANSFER = re.compile(r"^X-Belblok-Transfer[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
ACTIONS = ("greet", "reject", "bridge", "forward")


def transfer_token(message: str) -> str | None:
    """The X-Belblok-Transfer header of a received INVITE, if it has one."""
    head = message.split("\r\n\r\n", 1)[0]
    match = _TRANSFER.search(head)
    return match.group(1) if match else None


@dataclass
class Parts:
    """What the reception shares with the engine (all of it pjsua2-thread only)."""

    stack: SipStack
    settings: P.Start
    emit: Callable[[P.Message], None]
    mixer: Mixer
    calls: dict[str, SoftCall]
    pacer: Pacer
    on_change: Callable[[SoftCall, str], None]
    agent_audio: Callable[[], pj.AudioMedia | None]
    agent_free: Callable[[], bool]
    dead: list[SoftCall]  # calls to drop on a later loop turn


class Reception:
    """Takes incoming INVITEs and carries out the coordinator's Route for each."""

    def __init__(self, parts: Parts) -> None:
        self.d = parts
        self._seq = 0
        self._announcements: dict[str, str] = {}

    # -- arrival ------------------------------------------------------------------

    def arrive(self, call_id: int, message: str) -> None:
        """An INVITE came in: announce it, then answer, refuse, or hold it ringing."""
        d = self.d
        self._seq += 1
        # Workers share the recording directory: the pid keeps refs (and file names) apart.
        ref = f"in-{os.getpid()}-{self._seq}"
        state = CallState(ref=ref, uri="", role="incoming")
        state.got_response = state.rang = True  # we are the called party
        call = SoftCall(d.stack.account, state, d.on_change, call_id)
        info = call.getInfo()
        state.uri = info.remoteUri
        d.calls[ref] = call
        d.pacer.started()
        d.emit(P.CallEvent(call=ref, kind="incoming", at=time.time(), remote=state.uri,
                           sip_call_id=info.callIdString, transfer=transfer_token(message)))
        mode = d.settings.incoming
        if d.pacer.live > d.pacer.max_calls:
            self._reject(call, 486)  # RFC 3261 Busy Here: every call slot is taken
        elif mode == "answer":
            self._greet(call)
        elif mode == "ask":
            prm = pj.CallOpParam(True)
            prm.statusCode = 180
            call.answer(prm)
            state.deadlines.route = now() + d.settings.ask_timeout_s
        else:
            self._reject(call, 480)  # RFC 3261: we cannot take calls here; try again later

    # -- routing --------------------------------------------------------------------

    def route(self, cmd: P.Route) -> dict:
        """Carry out the coordinator's decision for a call held ringing."""
        call = self.d.calls.get(cmd.call)
        if call is None or call.state.role != "incoming" or call.state.disconnected:
            raise KeyError(f"no incoming call {cmd.call!r}")
        s = call.state
        if s.deadlines.route is None:
            raise ValueError(f"incoming call {cmd.call!r} is not waiting for a route")
        if cmd.action not in ACTIONS:
            raise ValueError(f"unknown route action {cmd.action!r}; expected one of {', '.join(ACTIONS)}")
        s.deadlines.route = None
        if cmd.action == "greet":
            self._greet(call)
        elif cmd.action == "reject":
            self._reject(call, cmd.code)
        elif cmd.action == "bridge":
            if not self.d.agent_free():
                self._reject(call, 486)
                return {"state": "busy"}
            s.bridge, s.record = True, cmd.record
            if cmd.announcement:
                self._announcements[s.ref] = cmd.announcement
            self._answer(call)
        else:
            return self._forward(call, cmd)
        return {"state": cmd.action}

    def fallback(self, call: SoftCall) -> None:
        """No Route came in time (or the forward failed): the greeting if there is one, else 480."""
        call.state.deadlines.route = None
        if call.state.disconnected:
            return
        if self.d.settings.greeting:
            self._greet(call)
        else:
            self._reject(call, 480)

    def check(self, t: float) -> None:
        """Fall back on calls whose Route is overdue."""
        for call in list(self.d.calls.values()):
            due = call.state.deadlines.route
            if due is not None and t >= due and not call.state.disconnected:
                log.warning("no route for %s within %.1f s: falling back", call.state.ref,
                            self.d.settings.ask_timeout_s)
                self.fallback(call)

    def _answer(self, call: SoftCall) -> None:
        prm = pj.CallOpParam(True)
        prm.statusCode = 200
        call.answer(prm)

    def _greet(self, call: SoftCall) -> None:
        call.state.greet = True
        self._answer(call)

    def _reject(self, call: SoftCall, code: int) -> None:
        call.state.rejected = True
        prm = pj.CallOpParam(True)
        prm.statusCode = code
        call.hangup(prm)

    # -- forwarding --------------------------------------------------------------------

    def _forward(self, call: SoftCall, cmd: P.Route) -> dict:
        d = self.d
        if not cmd.uri:
            raise ValueError("forward needs a uri")
        leg_state = CallState(ref=f"{call.state.ref}/fwd", uri=cmd.uri, role="forward", partner=call.state.ref)
        leg, started, error = start_call(d.stack.account, leg_state, d.on_change, call_params(cmd.headers.items()),
                                         no_response_s=d.settings.no_response_timeout_s, ring_s=cmd.ring_timeout_s)
        if error is not None:
            d.dead.append(leg)
            self._forward_failed(call, None, error, "failed")
            return {"state": "forward_failed"}
        call.state.partner = leg_state.ref
        d.calls[leg_state.ref] = leg
        d.pacer.started(started)
        return {"state": "forwarding"}

    def leg_answered(self, leg: SoftCall) -> None:
        """The forward target took the call: answer the caller; media joins them."""
        call = self.partner(leg)
        if call is None or call.state.disconnected:
            leg.hangup(pj.CallOpParam(True))
            return
        self._answer(call)
        self.d.emit(P.CallEvent(call=call.state.ref, kind="forwarded", at=time.time(), remote=leg.state.uri))

    def leg_ended(self, leg: SoftCall, code: int | None, reason: str, outcome: str) -> None:
        """Our forward leg ended: before answer the caller falls back; after, the caller is hung up too."""
        call = self.partner(leg)
        if call is None or call.state.disconnected:
            return
        if leg.state.answered:
            call.hangup(pj.CallOpParam(True))
        else:
            self._forward_failed(call, code, reason, outcome)

    def _forward_failed(self, call: SoftCall, code: int | None, reason: str, outcome: str) -> None:
        call.state.partner = None
        self.d.emit(P.CallEvent(call=call.state.ref, kind="forward_failed", at=time.time(), sip_code=code,
                                sip_reason=reason, outcome=outcome))
        self.fallback(call)

    def caller_ended(self, call: SoftCall) -> None:
        """The caller's side is gone: drop our forward leg with it."""
        leg = self.partner(call)
        if leg is not None and not leg.state.disconnected:
            leg.hangup(pj.CallOpParam(True))

    def forget(self, ref: str) -> None:
        """A call is gone: drop what was kept for it."""
        self._announcements.pop(ref, None)

    def partner(self, call: SoftCall) -> SoftCall | None:
        """The other leg of a forwarded call."""
        return self.d.calls.get(call.state.partner or "")

    # -- media -----------------------------------------------------------------------------

    def media(self, call: SoftCall) -> None:
        """Audio is up on an incoming call or a forward leg: greet, bridge, or join the two legs."""
        s, mixer = call.state, self.d.mixer
        if call.audio is None:
            return
        if s.greet and not mixer.recording(s.ref):
            mixer.connect_incoming(call, greeting=self.d.settings.greeting, loop=self.d.settings.greeting_loop)
        elif s.bridge:
            mixer.connect_debtor(call, self.d.agent_audio(), record=s.record,
                                 announcement=self._announcements.pop(s.ref, None))
        else:
            other = self.partner(call)
            if other is not None and other.audio is not None and s.role in ("incoming", "forward"):
                mixer.connect_pair(call, other)
