"""`belblok callback add|request|list|done|cancel`: call-back appointments and same-day return calls."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from zoneinfo import ZoneInfo

from ..core.clock import utcnow
from ..policy.engine import PolicyError
from ..scheduling.callbackservice import CallbackError, CallbackService
from ..scheduling.rules import parse_when
from ..settings.config import Config
from .common import sessions_for

EXIT_BAD_INPUT = 1
KINDS = ("appointment", "return", "follow_up")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `callback` command."""
    callback = sub.add_parser("callback", help="call-back appointments and same-day return calls")
    actions = callback.add_subparsers(dest="callback_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="book a call-back appointment (terugbelafspraak)")
    add.add_argument("ref", help="the debtor's reference")
    add.add_argument("--at", required=True, metavar="ISO-8601",
                     help="when: local team time (2026-03-02T16:30), or with an offset taken as is")
    add.add_argument("--agent", metavar="NAME", help="the agent who owns the appointment (default: anyone)")
    add.add_argument("--note", metavar="TEXT")
    request = actions.add_parser("request", help="a return call asked for by the debtor (terugbelverzoek), due today")
    request.add_argument("ref", help="the debtor's reference")
    request.add_argument("--agent", metavar="NAME", help="who should call (default: the debtor's owner)")
    request.add_argument("--note", metavar="TEXT")
    listing = actions.add_parser("list", help="open call-backs by due time")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.add_argument("--agent", metavar="NAME", help="only this agent's")
    listing.add_argument("--kind", choices=KINDS, help="only this kind")
    listing.add_argument("--all", action="store_true", help="also those done, cancelled or escalated")
    for name, text in (("done", "mark a call-back as done"), ("cancel", "cancel a call-back")):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int)
        action.add_argument("--by", metavar="NAME")
    callback.set_defaults(handler=run)


def fail(message: str) -> int:
    """Report bad input in one line on stderr (exit 1, nothing written)."""
    print(f"belblok: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def show(data: Any) -> None:
    """Print JSON the way every command does."""
    print(json.dumps(data, ensure_ascii=False))


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Carry out the action."""
    service = CallbackService(sessions_for(cfg), cfg)
    try:
        if args.callback_command == "add":
            at = parse_when(args.at, cfg.team.timezone, utcnow())
            show(service.add_appointment(args.ref, at, agent=args.agent, note=args.note, created_by=args.agent))
        elif args.callback_command == "request":
            show(service.add_return(args.ref, agent=args.agent, note=args.note, created_by=args.agent))
        elif args.callback_command == "list":
            rows = service.list(agent=args.agent, statuses=None if args.all else ("pending", "claimed"),
                                kinds=(args.kind,) if args.kind else None)
            if args.json:
                show(rows)
            else:
                _table(rows, ZoneInfo(cfg.team.timezone))
        elif args.callback_command == "done":
            show(service.complete(args.id, by=args.by))
        else:
            show(service.cancel(args.id, by=args.by))
    except (CallbackError, PolicyError, ValueError) as exc:
        return fail(str(exc))
    return 0


def _table(rows: list[dict[str, Any]], zone: ZoneInfo) -> None:
    if not rows:
        print("no call-backs")
        return
    for row in rows:
        due = row["due"][:16].replace("T", " ")
        note = f"  {row['note']}" if row["note"] else ""
        moved = "  (moved: requested " + row["requested"][:16].replace("T", " ") + ")" if "requested" in row else ""
        print(f"{row['id']:>6}  {due}  {row['kind']:<11}  {row['debtor']:<12}  {row['agent'] or '-':<10}  "
              f"{row['status']:<9}{note}{moved}")
