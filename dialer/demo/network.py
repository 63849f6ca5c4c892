"""The demo's simulated phone network on loopback: debtor lines, an agent phone, and a local mail server."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from pydub.generators import Sine

from softphone.client import Worker, WorkerSettings
from softphone.handle import CallHandle
from softphone.processes import free_port
from softphone.sipp import SippPeer

from ..mail.mailer import OutboxHandler

log = logging.getLogger(__name__)

# One line per behaviour (SIPp cannot route by number): each demo number is sent to the line it should reach.
# The answering line is a softphone that speaks Dutch (an objection or two); ringing and busy are SIPp.
BEHAVIOURS: dict[str, tuple[str, dict[str, str | int]]] = {
    "ring": ("ring", {"ring_timeout_ms": 120000}),
    "busy": ("reject", {"code": 486, "reason": "Busy Here"}),
}
DEBTOR_VOICE = Path(__file__).resolve().parents[2] / "config" / "demo-debtor-nl.wav"
RING_S = 2.5  # the answering debtor lets it ring this long


def tone(path: Path, frequency: int = 440, duration_ms: int = 1500) -> Path:
    """A short sine tone WAV (16 kHz mono) that stands in for a voice."""
    segment = Sine(frequency).to_audio_segment(duration=duration_ms, volume=-14).set_frame_rate(16000)
    segment.set_channels(1).export(path, "wav").close()  # pydub hands back the open file
    return path


class DemoNetwork:
    """Simulated debtor lines, a simulated agent phone and an SMTP server writing to the outbox directory."""

    def __init__(self, lines: dict[str, str], outbox: Path, caller_id: str = "+31201234567") -> None:
        self.lines = lines
        self.outbox = outbox
        self.caller_id = caller_id
        self.peers: dict[str, SippPeer] = {}
        self.phone: Worker | None = None
        self.supervisor_phone: Worker | None = None  # chef's own phone, to listen in from the wallboard
        self.debtor: Worker | None = None  # the answering line
        self._workdir = Path(".")
        self._tasks: set[asyncio.Task[None]] = set()
        self.smtp: Controller | None = None
        self.smtp_port = 0
        self._stack = ExitStack()

    def trunk_for(self, number: str) -> str:
        """The host:port of the simulated line this number reaches (unknown numbers: the answering line)."""
        peer = self.peers.get(self.lines.get(number, "answer"))
        return peer.uri if peer is not None else self.default_trunk

    @property
    def default_trunk(self) -> str:
        """The answering line: the trunk of the demo configuration."""
        assert self.debtor is not None and self.debtor.local_port
        return f"127.0.0.1:{self.debtor.local_port}"

    @property
    def agent_line(self) -> str:
        """The SIP URI of the simulated agent phone."""
        assert self.phone is not None and self.phone.local_port
        return f"sip:agent@127.0.0.1:{self.phone.local_port}"

    @property
    def supervisor_line(self) -> str:
        """The SIP URI of the simulated supervisor's phone."""
        assert self.supervisor_phone is not None and self.supervisor_phone.local_port
        return f"sip:chef@127.0.0.1:{self.supervisor_phone.local_port}"

    async def start(self) -> DemoNetwork:
        """Start everything; on failure whatever started is stopped again."""
        try:
            workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="belblok-demo-")))
            self._workdir = workdir
            for behaviour, (scenario, keys) in BEHAVIOURS.items():
                self.peers[behaviour] = self._stack.enter_context(SippPeer(scenario, keys=keys))
            self.debtor = Worker(WorkerSettings(
                trunk="127.0.0.1:9", caller_id="+31201110001", incoming="ask", greeting=str(DEBTOR_VOICE),
                greeting_loop=True, ask_timeout_s=30, recording_dir=str(workdir), name="demo-debtor"),
                on_incoming=self._ring_then_answer)
            await self.debtor.start()
            self.phone = Worker(WorkerSettings(
                trunk="127.0.0.1:9", caller_id=self.caller_id, incoming="answer",
                greeting=str(tone(workdir / "agent-voice.wav")), greeting_loop=True, recording_dir=str(workdir),
                name="demo-agent-phone"))
            await self.phone.start()
            self.supervisor_phone = Worker(WorkerSettings(
                trunk="127.0.0.1:9", caller_id=self.caller_id, incoming="answer",
                greeting=str(tone(workdir / "supervisor-voice.wav", frequency=660)), greeting_loop=True,
                recording_dir=str(workdir), name="demo-supervisor-phone"))
            await self.supervisor_phone.start()
            self.smtp_port = free_port("tcp")
            self.smtp = Controller(OutboxHandler(self.outbox), hostname="127.0.0.1", port=self.smtp_port)
            self.smtp.start()
        except BaseException:
            await self.stop()
            raise
        return self

    def _ring_then_answer(self, call: CallHandle) -> None:
        self._spawn(self._answer_later(call))

    async def _answer_later(self, call: CallHandle) -> None:
        await asyncio.sleep(RING_S)  # a person takes a moment to pick up (the demo's only timing, not a test's)
        if not call.ended:
            await call.route("greet")

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def call_in(self, number: str, target: str, *, talk_s: float = 45.0) -> None:
        """A debtor phones the team from `number`: a short-lived softphone calls `target` and talks."""
        caller = Worker(WorkerSettings(trunk="127.0.0.1:9", caller_id=number, recording_dir=str(self._workdir),
                                       name="demo-caller"))
        await caller.start()
        try:
            call = await caller.dial_uri(target, announcement=str(DEBTOR_VOICE), hangup_after_s=talk_s,
                                         record=False, bridge=False, ring_timeout_s=60)
        except BaseException:
            await caller.stop()
            raise
        self._spawn(self._hang_up_and_stop(caller, call))

    async def _hang_up_and_stop(self, caller: Worker, call: CallHandle) -> None:
        try:
            await call.result()
        finally:
            await caller.stop()

    async def stop(self) -> None:
        """Stop the callers, the phones, the SIPp lines and the mail server."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for attr in ("supervisor_phone", "phone", "debtor"):
            worker = getattr(self, attr)
            if worker is not None:
                try:
                    await worker.stop()
                except Exception:
                    log.exception("stopping the demo %s failed", attr)
                setattr(self, attr, None)
        if self.smtp is not None:
            try:
                self.smtp.stop()
            except Exception:
                log.exception("stopping the demo mail server failed")
            self.smtp = None
        self._stack.close()
        self.peers.clear()

    async def __aenter__(self) -> DemoNetwork:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
