"""`belblok blocks`: the calling blocks in force, when each opens and closes next, and the one open now."""

from __future__ import annotations

import argparse
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..settings.config import Config
from .common import sessions_for
from .queue import moment


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `blocks` command."""
    blocks = sub.add_parser("blocks", help="list the calling blocks with their next opening and closing")
    blocks.add_argument("--at", metavar="ISO-8601", help="the moment to look from (default: now)")
    blocks.add_argument("--json", action="store_true", help="print JSON instead of a table")
    blocks.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Print the blocks."""
    from ..blocks.block import current_block, next_block, next_open_and_close
    from ..blocks.model import load_blocks

    at = moment(args.at, cfg)
    team = cfg.team
    with Session(sessions_for(cfg).kw["bind"]) as session:
        blocks = load_blocks(session, cfg.blocks)
    listed: list[dict[str, Any]] = []
    for block in blocks:
        opens, closes = next_open_and_close(block, at, team.timezone, team.country)
        listed.append({**block.to_json(), "next_open": opens.isoformat() if opens else None,
                       "next_close": closes.isoformat() if closes else None})
    current = current_block(blocks, at, team.timezone, team.country)
    coming = next_block(blocks, at, team.timezone, team.country)
    data = {"at": at.isoformat(), "timezone": team.timezone, "country": team.country,
            "current": current.to_json() if current else None, "next": coming.to_json() if coming else None,
            "blocks": listed}
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    zone = ZoneInfo(team.timezone)
    print(f"{len(blocks)} calling block(s), {team.timezone}, holidays of {team.country or 'no country'}")
    for block, row in zip(blocks, listed):
        when = block.on.isoformat() if block.on else ",".join(block.days)
        nxt = f"next {_local(row['next_open'], zone)} – {_local(row['next_close'], zone)}"
        print(f"  {block.kind:8} {when:28} {row['start']}–{row['end']}  {nxt}  ({block.source})")
    print("open now: " + (f"until {current.closes.astimezone(zone):%H:%M}" if current else "no"))
    return 0


def _local(iso: str | None, zone: ZoneInfo) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(zone).strftime("%a %Y-%m-%d %H:%M") if iso else "never"
