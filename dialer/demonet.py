"""The demo's simulated phone network on loopback: SIPp debtor lines, an agent phone, and a local mail server."""

from __future__ import annotations

import logging
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from pydub.generators import Sine

from softphone.client import Worker, WorkerSettings
from softphone.processes import free_port
from softphone.sipp import SippPeer

from .mailer import OutboxHandler

log = logging.getLogger(__name__)

# One SIPp per behaviour (SIPp cannot route by number): each demo number is sent to the line it should reach.
BEHAVIOURS: dict[str, tuple[str, dict[str, str | int]]] = {
    "answer": ("answer", {"ring_ms": 2500, "hangup_ms": 600000}),
    "ring": ("ring", {"ring_timeout_ms": 120000}),
    "busy": ("reject", {"code": 486, "reason": "Busy Here"}),
}


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
        self.smtp: Controller | None = None
        self.smtp_port = 0
        self._stack = ExitStack()

    def trunk_for(self, number: str) -> str:
        """The host:port of the simulated line this number reaches (unknown numbers: the answering line)."""
        behaviour = self.lines.get(number, "answer")
        return self.peers.get(behaviour, self.peers["answer"]).uri

    @property
    def default_trunk(self) -> str:
        """The answering line: the trunk of the demo configuration."""
        return self.peers["answer"].uri

    @property
    def agent_line(self) -> str:
        """The SIP URI of the simulated agent phone."""
        assert self.phone is not None and self.phone.local_port
        return f"sip:agent@127.0.0.1:{self.phone.local_port}"

    async def start(self) -> DemoNetwork:
        """Start everything; on failure whatever started is stopped again."""
        try:
            workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="belblok-demo-")))
            for behaviour, (scenario, keys) in BEHAVIOURS.items():
                self.peers[behaviour] = self._stack.enter_context(SippPeer(scenario, keys=keys))
            self.phone = Worker(WorkerSettings(
                trunk="127.0.0.1:9", caller_id=self.caller_id, incoming="answer",
                greeting=str(tone(workdir / "agent-voice.wav")), greeting_loop=True, recording_dir=str(workdir),
                name="demo-agent-phone"))
            await self.phone.start()
            self.smtp_port = free_port("tcp")
            self.smtp = Controller(OutboxHandler(self.outbox), hostname="127.0.0.1", port=self.smtp_port)
            self.smtp.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        """Stop the agent phone, the SIPp lines and the mail server."""
        if self.phone is not None:
            try:
                await self.phone.stop()
            except Exception:
                log.exception("stopping the demo agent phone failed")
            self.phone = None
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
