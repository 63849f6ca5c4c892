"""The demo: real calls to simulated lines on this machine, no SIP account needed."""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from pydub.generators import Sine

from softphone.client import Worker, WorkerSettings
from softphone.sipp import SippPeer

from ..calllog.journal import CallLog
from ..calls.telephony import DialRequest, Telephony
from ..settings.config import Config


@dataclass(frozen=True)
class DemoLine:
    """One simulated debtor line: what it does, and the SIPp scenario that does it."""

    label: str
    number: str
    scenario: str
    keys: dict[str, str | int]
    ring_timeout_s: float | None = None


LINES = (
    DemoLine("answers and talks", "+31207654321", "answer", {}),
    DemoLine("is busy", "+31307654321", "reject", {"code": 486, "reason": "Busy Here"}),
    DemoLine("rings, nobody answers", "+31107654321", "ring", {}, ring_timeout_s=4),
)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _agent_voice(directory: Path) -> Path:
    """A short tone that stands in for the agent's voice on the simulated agent phone."""
    path = directory / "agent-voice.wav"
    with path.open("wb") as f:  # pydub leaves a path's file open
        Sine(440).to_audio_segment(duration=1500, volume=-12).set_frame_rate(16000).set_channels(1).export(f, "wav")
    return path


async def _agent_phone(workdir: Path, cfg: Config) -> Worker:
    """A second softphone that plays the agent: it answers, talks and listens."""
    phone = Worker(WorkerSettings(trunk="127.0.0.1:9", caller_id=cfg.sip.caller_id, incoming="answer",
                                  greeting=str(_agent_voice(workdir)), greeting_loop=True,
                                  recording_dir=str(workdir), name="demo-agent-phone"))
    await phone.start()
    return phone


async def run_demo(cfg: Config, calllog: CallLog) -> int:
    """Place one call to each simulated line, bridged to a simulated agent phone; print the attempts."""
    _say("Belblok demo: simulated debtor lines (SIPp) and a simulated agent phone on 127.0.0.1.")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="belblok-demo-")))
        phone = await _agent_phone(workdir, cfg)
        try:
            for line in LINES:
                peer = stack.enter_context(SippPeer(line.scenario, keys=line.keys))
                sip = cfg.sip.model_copy(update={"trunk": peer.uri, "username": "", "transport": "udp"})
                line_cfg = cfg.model_copy(update={"sip": sip})
                async with Telephony(line_cfg, calllog, name="demo") as tel:
                    await tel.open_agent_line(f"sip:agent@127.0.0.1:{phone.local_port}")
                    _say(f"\n→ calling {line.number}, a line that {line.label} …")
                    attempt_id = await tel.place(DialRequest(number=line.number, hangup_after_s=3,
                                                             ring_timeout_s=line.ring_timeout_s, agent="demo"))
                attempt = calllog.get(attempt_id).to_json()
                _say(f"  outcome {attempt['outcome']} (SIP {attempt['sip_code']} {attempt['sip_reason']}, "
                     f"{attempt['sip_code_source']})" + (f"; recording {attempt['recording']}" if attempt["recording"] else ""))
                print(json.dumps(attempt, ensure_ascii=False), flush=True)
        finally:
            await phone.stop()
    _say(f"\nEvery attempt is in the call log ({cfg.database.url}): `belblok attempts` lists them.")
    return 0
