"""`belblok queue`: an agent's queue as it would be at a moment, dialling nothing."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from ..core.clock import utcnow
from ..settings.config import Config
from .common import UsageError, sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `queue` command."""
    queue = sub.add_parser("queue", help="show an agent's call queue (and what is excluded), dialling nothing")
    queue.add_argument("--agent", required=True, metavar="NAME", help="whose queue (their appointments come first)")
    queue.add_argument("--at", metavar="ISO-8601", help="the moment to compute it for (default: now; without an "
                                                        "offset: the team's local time)")
    queue.add_argument("--limit", type=int, default=100, metavar="N", help="at most N entries (default 100)")
    queue.add_argument("--json", action="store_true", help="print JSON instead of a table")
    queue.set_defaults(handler=run)


def moment(text: str | None, cfg: Config) -> datetime:
    """--at as an aware datetime: ISO 8601, local team time when it has no offset."""
    if not text:
        return utcnow()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time such as 2026-11-24T09:45:00+01:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(cfg.team.timezone))
    return value


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Print the queue."""
    from ..queue.query import QueueQuery

    if args.limit <= 0:
        raise UsageError("--limit must be at least 1")
    at = moment(args.at, cfg)
    sessions = sessions_for(cfg)
    queue = QueueQuery(cfg, sessions.kw["bind"]).queue(args.agent, at, limit=args.limit)
    if args.json:
        print(json.dumps(queue.to_json(), ensure_ascii=False))
        return 0
    zone = ZoneInfo(cfg.team.timezone)
    block = queue.block
    print(f"queue of {queue.agent} at {queue.at.astimezone(zone):%Y-%m-%d %H:%M} ({cfg.team.timezone}); "
          + (f"block {block.opens.astimezone(zone):%H:%M}–{block.closes.astimezone(zone):%H:%M}" if block
             else "outside a calling block"))
    rows = [("#", "kind", "debtor", "contact", "number", "due", "caller ID", "reason")]
    for n, e in enumerate(queue.entries, 1):
        due = e.due.astimezone(zone).strftime("%m-%d %H:%M") if e.due else ""
        rows.append((str(n), e.kind, e.debtor, e.contact, e.number, due,
                     "withheld" if e.withhold_caller_id else "shown", e.reason))
    _table(rows)
    if queue.excluded:
        print()
        rows = [("excluded", "rules", "next allowed")]
        for x in queue.excluded:
            rows.append((x.debtor, ", ".join(x.rules),
                         x.next_allowed.astimezone(zone).strftime("%Y-%m-%d %H:%M") if x.next_allowed else "—"))
        _table(rows)
    return 0


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
