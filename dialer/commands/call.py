"""`belblok call NUMBER` and `belblok attempts`."""

from __future__ import annotations

import argparse
import asyncio
import json

from ..core.numbers import normalise
from ..settings.config import Config
from .common import calllog_for, positive_seconds


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `call` and `attempts` commands."""
    call = sub.add_parser("call", help="place one call through the configured trunk")
    call.add_argument("number", help="the number to call, national or international form")
    call.add_argument("--withhold-id", action="store_true", help="withhold the caller ID (CLIR) for this call")
    call.add_argument("--ring-timeout", type=positive_seconds, metavar="S", help="give up after S seconds of ringing")
    call.add_argument("--hangup-after", type=positive_seconds, metavar="S", help="hang up S seconds after answer")
    call.add_argument("--agent-line", metavar="SIP_URI", help="call this phone first and bridge the call onto it")
    call.add_argument("--agent", metavar="NAME", help="agent name recorded on the attempt")
    call.set_defaults(handler=run_call)

    attempts = sub.add_parser("attempts", help="list the most recent call attempts as JSON lines")
    attempts.add_argument("--limit", type=int, default=20)
    attempts.set_defaults(handler=run_attempts)


def run_call(args: argparse.Namespace, cfg: Config) -> int:
    """Place the call and print its attempt."""
    from ..calls.oneshot import run_call as place

    number = normalise(args.number, cfg.numbers.default_region)
    cfg.sip.secret()  # a missing password variable is a config error, before anything is dialled
    calllog = calllog_for(cfg)
    result = asyncio.run(place(cfg, calllog, number, withhold=args.withhold_id, ring_timeout_s=args.ring_timeout,
                               hangup_after_s=args.hangup_after, agent_line=args.agent_line or cfg.agent.line or None,
                               agent=args.agent))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def run_attempts(args: argparse.Namespace, cfg: Config) -> int:
    """Print the latest attempts."""
    for attempt in calllog_for(cfg).recent(args.limit):
        print(json.dumps(attempt.to_json(), ensure_ascii=False))
    return 0
