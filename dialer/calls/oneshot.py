"""One call from the command line: start a worker, place the call, report the attempt."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from ..calllog.journal import CallLog
from ..recordings.jobs import process_one
from ..settings.config import Config
from .telephony import DialRequest, Telephony

log = logging.getLogger(__name__)


async def run_call(cfg: Config, calllog: CallLog, number: str, *, withhold: bool = False,
                   ring_timeout_s: float | None = None, hangup_after_s: float | None = None,
                   agent_line: str | None = None, agent: str | None = None) -> dict[str, Any]:
    """Place one call (bridged onto `agent_line` if given) and return its attempt as JSON."""
    async with Telephony(cfg, calllog, name="cli") as phone:
        if agent_line:
            await phone.open_agent_line(agent_line, ring_timeout_s)
        request = DialRequest(number=number, withhold=withhold, ring_timeout_s=ring_timeout_s,
                              hangup_after_s=hangup_after_s, agent=agent)
        attempt_id = await phone.place(request)
    recording = phone.recordings.by_attempt(attempt_id)
    if recording is not None:
        # The contract: `belblok call` leaves its recording processed (compact, analysed).
        await asyncio.to_thread(process_one, phone.recordings, cfg, recording.id)
    attempt = calllog.get(attempt_id).to_json()
    if attempt["outcome"] == "network_error":
        print(f"belblok: warning: no usable SIP answer from the trunk at {cfg.sip.trunk} "
              f"({attempt['sip_code']} {attempt['sip_reason']}); check [sip] trunk and transport",
              file=sys.stderr)
    return attempt
