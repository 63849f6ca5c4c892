"""The coordinator's view of one call: its events as they arrive, and its result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from .protocol import CallEvent

FINAL_KINDS = ("ended",)


@dataclass(frozen=True)
class CallResult:
    """How a call ended, and where its recording is (if any)."""

    ref: str
    outcome: str
    sip_code: int | None
    sip_reason: str | None
    code_source: str | None
    calling_at: float | None
    ringing_at: float | None
    answered_at: float | None
    ended_at: float
    sip_call_id: str | None
    recording: str | None
    media: dict[str, float] | None = None  # what this side received: rx_packets, rx_lost, rx_late, jitter …


class CallHandle:
    """Events of one call in arrival order; `result()` waits for the end (and the recording)."""

    def __init__(self, ref: str, uri: str, *, withheld: bool,
                 hangup: Callable[[str], Awaitable[None]],
                 record_start: Callable[[str], Awaitable[bool]] | None = None,
                 router: Callable[..., Awaitable[dict]] | None = None, transfer: str | None = None) -> None:
        self.ref = ref
        self.uri = uri
        self.withheld = withheld
        self.state = "queued"
        self.times: dict[str, float] = {}
        self.sip_call_id: str | None = None
        self._record = False  # set by a recording_started event
        self._hangup = hangup
        self._record_start = record_start
        self._router = router
        self.transfer = transfer  # incoming: the token a forwarding worker put on it
        self._queue: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._end: CallEvent | None = None
        self._recording: str | None = None
        self._done = asyncio.Event()

    @property
    def ended(self) -> bool:
        """True once the call has ended (the recording may still be being written)."""
        return self._end is not None

    @property
    def result_ready(self) -> bool:
        """True once `result()` would return at once."""
        return self._done.is_set()

    def interrupt(self, reason: str) -> None:
        """The worker died: end the call as `interrupted`, or give up on its recording."""
        if self._end is None:
            self.deliver(CallEvent(call=self.ref, kind="ended", at=time.time(), sip_reason=reason,
                                   code_source="local", outcome="interrupted"))
        if not self._done.is_set():
            self.deliver(CallEvent(call=self.ref, kind="recording", at=time.time(), recording=None))

    def deliver(self, event: CallEvent) -> None:
        """Take one event from the worker (called by the Worker's reader)."""
        if self._done.is_set() or (self._end is not None and event.kind != "recording"):
            return  # nothing follows the end but the recording
        if event.sip_call_id:
            self.sip_call_id = event.sip_call_id
        if event.kind == "recording":
            self._recording = event.recording
            self._done.set()
        elif event.kind == "recording_started":
            self._record = True  # from now on the end is followed by the recording
            self.times.setdefault(event.kind, event.at)
        else:
            self.state = event.kind
            self.times.setdefault(event.kind, event.at)
            if event.kind == "ended":
                self._end = event
                if not self._record:
                    self._done.set()
        self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[CallEvent]:
        """Yield every event up to and including the last one of this call."""
        while True:
            event = await self._queue.get()
            yield event
            if self._done.is_set() and self._queue.empty():
                return

    async def hangup(self) -> None:
        """Hang up: CANCEL while it rings, BYE once answered."""
        if not self.ended:
            await self._hangup(self.ref)

    async def start_recording(self) -> bool:
        """Start recording now (on-demand recording); False if it already records."""
        if self.ended or self._record_start is None:
            return False
        return await self._record_start(self.ref)

    async def route(self, action: str, **options: object) -> dict:
        """Incoming call held ringing: greet, reject, bridge onto the agent line, or forward (protocol.Route)."""
        if self._router is None:
            raise RuntimeError(f"call {self.ref} is not an incoming call")
        return await self._router(self.ref, action, **options)

    @property
    def recording_started_at(self) -> float | None:
        """Worker time when recording began — the zero of bookmark offsets."""
        return self.times.get("recording_started")

    async def result(self) -> CallResult:
        """Wait until the call has ended and its recording (if any) is final."""
        await self._done.wait()
        end = self._end
        assert end is not None
        return CallResult(
            ref=self.ref,
            outcome=end.outcome or "failed",
            sip_code=end.sip_code,
            sip_reason=end.sip_reason,
            code_source=end.code_source,
            calling_at=self.times.get("calling"),
            ringing_at=self.times.get("ringing"),
            answered_at=self.times.get("answered"),
            ended_at=end.at,
            sip_call_id=self.sip_call_id,
            recording=self._recording,
            media=end.media,
        )
