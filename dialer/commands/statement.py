"""`belblok import statement FILE`: a bank statement's credits matched to invoices, the rest listed as unmatched."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from ..banking.booking import book_statement
from ..core.clock import utcnow
from ..imports.bankfile import read_statement
from ..imports.errors import ImportErrorItem, ImportFailed
from ..settings.config import Config
from .common import sessions_for
from .progressline import ProgressLine

EXIT_FAILED = 1


def where(error: ImportErrorItem) -> str:
    """A statement problem as 'line 12, :61:: …' (MT940) or 'Stmt[1]/Ntry[3]/Amt: …' (camt)."""
    spot = ", ".join(part for part in (error.row and f"line {error.row}", error.column) if part)
    return f"{spot}: {error.message}" if spot else error.message


def import_statement(args: argparse.Namespace, cfg: Config) -> int:
    """Read the whole statement, then book it in one transaction; list every problem and book nothing if one."""
    name = Path(args.file).name
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"belblok: error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    progress = ProgressLine(sys.stderr)
    try:
        statement = read_statement(data, name)
        with sessions_for(cfg)() as session, session.begin():
            booked = book_statement(session, statement, source=name, cfg=cfg, now=utcnow(), progress=progress)
    except ImportFailed as exc:
        progress.clear()
        for error in exc.errors:
            print(f"{name}: {where(error)}", file=sys.stderr)
        print(f"belblok: error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except DBAPIError as exc:  # e.g. the same statement imported at the same moment elsewhere
        progress.clear()
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        print(f"belblok: error: {args.file}: the database refused the statement ({reason}); nothing imported",
              file=sys.stderr)
        return EXIT_FAILED
    progress.clear()
    print(booked.summary)
    if booked.unmatched:
        print(f"{booked.unmatched} credits wait on the unmatched payments list (/payments/unmatched, or "
              f"`belblok payment unmatched`)")
    return 0
