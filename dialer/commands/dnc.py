"""`belblok dnc list|add|remove` and `belblok import dnc FILE`: the team's do-not-call list."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.clock import utcnow
from ..core.numbers import InvalidNumber, normalise
from ..dossiers.donotcall import add_numbers, listing, remove_number
from ..imports.dnclist import read_dnc
from ..imports.errors import ImportFailed
from ..settings.config import Config
from .common import sessions_for

EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dnc` command."""
    command = sub.add_parser("dnc", help="the team's do-not-call list (numbers never phoned)",
                             description="Numbers on the list are refused at the moment of dialling (rule "
                                         "dnc_list). Import a file with `belblok import dnc FILE`.")
    actions = command.add_subparsers(dest="action", required=True)
    shown = actions.add_parser("list", help="every number on the list")
    shown.add_argument("--json", action="store_true", help="one JSON object per number")
    for name, text in (("add", "put a number on the list"), ("remove", "take a number off the list")):
        action = actions.add_parser(name, help=text)
        action.add_argument("number", metavar="NUMBER", help="the phone number (any format; E.164 is safest)")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """List, add or remove."""
    sessions = sessions_for(cfg)
    if args.action == "list":
        with sessions() as session:
            rows = listing(session)
        if args.json:
            print(json.dumps([{"number": r.number, "source": r.source, "added_at": r.added_at.isoformat()}
                              for r in rows]))
        else:
            for row in rows:
                print(f"{row.number}\t{row.added_at:%Y-%m-%d}\t{row.source}")
        return 0
    try:
        number = normalise(args.number, cfg.numbers.default_region)
    except InvalidNumber as exc:
        print(f"belblok: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    with sessions.begin() as session:
        if args.action == "add":
            added, _ = add_numbers(session, [number], source="belblok dnc add", now=utcnow())
            print(f"{number}: {'added to' if added else 'already on'} the do-not-call list")
            return 0
        if not remove_number(session, number):
            print(f"belblok: error: {number} is not on the do-not-call list", file=sys.stderr)
            return EXIT_FAILED
    print(f"{number}: taken off the do-not-call list")
    return 0


def import_dnc(args: argparse.Namespace, cfg: Config) -> int:
    """`belblok import dnc FILE`: every number of the file on the list, or none if one line is bad."""
    try:
        data = Path(args.file).read_bytes()
        found = read_dnc(data, shape=args.shape, column=args.column, region=cfg.numbers.default_region)
    except OSError as exc:
        print(f"belblok: error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except ImportFailed as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"belblok: error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    with sessions_for(cfg).begin() as session:
        added, already = add_numbers(session, found.numbers, source=Path(args.file).name, now=utcnow())
    print(f"do-not-call list: {added} number(s) added, {already} already on it ({found.lines} line(s) read)")
    return 0
