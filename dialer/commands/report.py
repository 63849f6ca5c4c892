"""`belblok report agents|outcomes|promises|ageing`: the supervisor's reports (docs/reports.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.clock import utcnow
from ..reports.files import FORMATS, render
from ..reports.metrics import KINDS
from ..reports.period import PeriodError, parse_period
from ..reports.runner import report
from ..settings.config import Config
from .common import UsageError, sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` command."""
    parser = sub.add_parser("report", help="reports: agents, outcomes, promises, ageing (docs/reports.md)")
    parser.add_argument("kind", choices=KINDS, help="which report")
    parser.add_argument("--from", dest="first", required=True, metavar="DATE", help="first day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day, included (YYYY-MM-DD)")
    parser.add_argument("--agent", metavar="NAME", help="one agent only")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Compute the report and write it."""
    if args.format == "xlsx" and not args.output:
        raise UsageError("--format xlsx writes a workbook: give --output FILE.xlsx")
    try:
        period = parse_period(args.first, args.last, cfg.team.timezone)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    engine = sessions_for(cfg).kw["bind"]  # migrated, or a clear error saying how
    try:
        rows = report(engine, cfg, args.kind, period, now=utcnow(), agent=args.agent)
    finally:
        engine.dispose()
    body = render(rows, args.format, args.kind)
    if args.output:
        target = Path(args.output)
        temporary = target.with_name(target.name + ".part")
        # Written beside the target and renamed: a failed run leaves no half-written report.
        temporary.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
        temporary.replace(target)
    else:
        sys.stdout.write(body if isinstance(body, str) else body.decode())
    return 0
