"""`belblok dial REF`: dial a dossier now, through the same checks as the panel (exit 3 when refused)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..settings.config import Config
from .common import positive_seconds, sessions_for

EXIT_UNKNOWN = 1
EXIT_REFUSED = 3


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dial` command."""
    dial = sub.add_parser("dial", help="dial a dossier now: policy, number, caller ID and retry rules applied")
    dial.add_argument("ref", metavar="REF", help="the debtor's reference")
    dial.add_argument("--agent", default="cli", metavar="NAME", help="the agent who calls (default: cli)")
    dial.add_argument("--ring-timeout", type=positive_seconds, metavar="S", help="give up after S seconds of ringing")
    dial.add_argument("--hangup-after", type=positive_seconds, metavar="S", help="hang up S seconds after answer")
    dial.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Dial, wait for the end of the call, print its attempt."""
    from ..dossiers.dossier import UnknownDebtor
    from ..sessions.dialing import DialRefused

    cfg.sip.secret()  # a missing password variable is a config error, before anything is dialled
    try:
        attempt = asyncio.run(_dial(args, cfg))
    except UnknownDebtor as exc:
        print(f"belblok: error: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    except DialRefused as refused:
        print(f"belblok: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    if attempt["outcome"] == "network_error":
        print(f"belblok: warning: no usable SIP answer from the trunk at {cfg.sip.trunk} "
              f"({attempt['sip_code']} {attempt['sip_reason']}); check [sip] trunk and transport", file=sys.stderr)
    print(json.dumps(attempt, ensure_ascii=False))
    return 0


async def _dial(args: argparse.Namespace, cfg: Config) -> dict[str, Any]:
    from ..calllog.journal import CallLog
    from ..calls.desk import Switchboard
    from ..live.events import EventHub
    from ..sessions.dialing import DossierDialer

    sessions = sessions_for(cfg)
    hub = EventHub()
    board = Switchboard(cfg, CallLog(sessions), hub)
    dialer = DossierDialer(cfg, sessions.kw["bind"], board, hub)
    try:
        call = await dialer.dial(args.ref, args.agent, ring_timeout_s=args.ring_timeout,
                                 hangup_after_s=args.hangup_after)
        attempt = await call.done
    finally:
        await board.close()
    # Like `belblok call`: leave the recording processed (compact, analysed) before exiting.
    from ..recordings.jobs import process_one
    from ..recordings.store import RecordingStore

    store = RecordingStore(sessions)
    recording = store.by_attempt(attempt["attempt_id"])
    if recording is not None and recording.status == "pending":
        await asyncio.to_thread(process_one, store, cfg, recording.id)
        attempt = CallLog(sessions).get(attempt["attempt_id"]).to_json()
    return attempt
