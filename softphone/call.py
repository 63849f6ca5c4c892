"""One pjsua2 call and the SIP facts gathered while it lives (pjsua2 thread only)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pjsua2 as pj

from .outcome import CallFacts, CodeSource, HangupCause
from .streamstats import stream_figures

log = logging.getLogger(__name__)

_STATUS_LINE = re.compile(rb"^SIP/2\.0 (\d{3}) ")


@dataclass
class Deadlines:
    """Monotonic times at which the engine must act on a call, if still relevant."""

    no_response: float | None = None
    ring: float | None = None
    hangup: float | None = None
    route: float | None = None  # an incoming call held ringing: fall back if no Route came by then


@dataclass
class CallState:
    """Plain values copied out of pjsua2 callbacks; safe to read anywhere."""

    ref: str
    uri: str
    role: str  # debtor | agent | incoming | forward (our leg of a forwarded incoming call) | monitor (a supervisor)
    record: bool = False
    bridge: bool = False
    greet: bool = False  # incoming: play the greeting and record what the caller says
    rejected: bool = False  # incoming: we refused it (else an unanswered end means the caller gave up)
    partner: str | None = None  # incoming ⇄ forward: the other leg's ref; monitor: the call it joins
    hangup_after_s: float | None = None
    got_response: bool = False
    rang: bool = False
    answered: bool = False
    disconnected: bool = False
    last_rx_code: int | None = None
    hangup_cause: HangupCause = HangupCause.NONE
    sip_call_id: str | None = None
    deadlines: Deadlines = field(default_factory=Deadlines)

    def overdue(self, t: float) -> HangupCause | None:
        """Which deadline (if any) has passed at monotonic time `t`: why our side must hang up now."""
        d = self.deadlines
        if self.disconnected:
            return None
        if not self.got_response and d.no_response is not None and t >= d.no_response:
            return HangupCause.NO_RESPONSE
        if not self.answered and d.ring is not None and t >= d.ring:
            return HangupCause.RING_TIMEOUT
        if self.answered and d.hangup is not None and t >= d.hangup:
            return HangupCause.HANGUP_AFTER
        return None

    def facts(self, code: int | None, source: CodeSource) -> CallFacts:
        """The facts the outcome is derived from."""
        return CallFacts(code, source, self.answered, self.got_response, self.rang, self.hangup_cause)


class SoftCall(pj.Call):
    """A pj.Call that records SIP facts and forwards state changes to the engine."""

    def __init__(self, account: pj.Account, state: CallState, on_change: Callable[[SoftCall, str], None],
                 call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.state = state
        self._on_change = on_change
        self.audio: pj.AudioMedia | None = None
        self.audio_index: int | None = None
        self.media_figures: dict[str, float] | None = None  # the audio stream's RTP figures, once it ends
        self.final_code: int | None = None
        self.final_reason: str = ""
        self.final_source = CodeSource.LOCAL

    def onCallTsxState(self, prm: pj.OnCallTsxStateParam) -> None:  # noqa: N802 (pjsua2 name)
        try:
            self._note_response(prm.e)
        except Exception:  # SWIG would swallow it silently
            log.exception("onCallTsxState failed for %s", self.state.ref)

    def _note_response(self, event: pj.SipEvent) -> None:
        if event.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx = event.body.tsxState
        if tsx.type != pj.PJSIP_EVENT_RX_MSG or tsx.tsx.method != "INVITE":
            return
        match = _STATUS_LINE.match(tsx.src.rdata.wholeMsg.encode("utf-8", "replace"))
        if match is None:
            return
        code = int(match.group(1))
        self.state.got_response = True
        self.state.last_rx_code = code
        if code in (180, 183):
            self.state.rang = True

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        try:
            self._note_response(prm.e)
            info = self.getInfo()
            if self.state.sip_call_id is None:
                self.state.sip_call_id = info.callIdString
            if info.state == pj.PJSIP_INV_STATE_EARLY and self.state.rang and self.state.role != "incoming":
                self._on_change(self, "ringing")
            elif info.state == pj.PJSIP_INV_STATE_CONFIRMED:
                self.state.answered = True
                self._on_change(self, "answered")
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self._finish(info, prm.e)
        except Exception:
            log.exception("onCallState failed for %s", self.state.ref)

    def _finish(self, info: pj.CallInfo, event: pj.SipEvent) -> None:
        self.final_code = info.lastStatusCode or None
        self.final_reason = info.lastReason
        # The code is the peer's only if the event that ended the call was a
        # message received with that very status (PJSUA2.md: 408/503 are
        # also made up locally on timeouts and transport errors).
        from_wire = (
            event.type == pj.PJSIP_EVENT_TSX_STATE
            and event.body.tsxState.type == pj.PJSIP_EVENT_RX_MSG
            and self.state.last_rx_code == self.final_code
        ) or (self.state.answered and self.final_code == 200)
        self.final_source = CodeSource.WIRE if from_wire else CodeSource.LOCAL
        self.state.disconnected = True
        self._on_change(self, "ended")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        try:
            info = self.getInfo()
            for index, media in enumerate(info.media):
                if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    if self.audio is None:
                        self.audio = self.getAudioMedia(index)
                        self.audio_index = index
                        self._on_change(self, "media")
                    break
        except Exception:
            log.exception("onCallMediaState failed for %s", self.state.ref)

    def onStreamDestroyed(self, prm: pj.OnStreamDestroyedParam) -> None:  # noqa: N802
        # pjsua destroys the stream before it reports DISCONNECTED, so this is the last moment its figures
        # exist (measured: every call's figures, ours and the peer's hang-up alike, came from here).
        try:
            if prm.streamIdx == self.audio_index and self.media_figures is None:
                self.media_figures = stream_figures(self, prm.streamIdx)
        except Exception:
            log.exception("onStreamDestroyed failed for %s", self.state.ref)


def now() -> float:
    """Monotonic clock used for all deadlines."""
    return time.monotonic()
