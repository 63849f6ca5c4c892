"""`belblok import debtors|contacts|invoices|payments|dnc|statement|ubl FILE`: exports into the database."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from ..core.clock import utcnow
from ..imports.dnclist import SHAPES
from ..imports.importer import IMPORT_KINDS, ImportFailed, import_csv
from ..settings.config import Config
from .common import sessions_for
from .dnc import import_dnc
from .progressline import ProgressLine

EXIT_FAILED = 1


class MapError(ValueError):
    """The --map file cannot be used; the message says why."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `import` command."""
    command = sub.add_parser("import", help="import debtors, contacts, invoices or payments (CSV or workbook), "
                                            "bank statements, e-invoices or do-not-call numbers",
                             description="Check the whole file, then import all of it or nothing. "
                                         "See docs/import.md for the columns and formats.")
    command.add_argument("kind", choices=(*IMPORT_KINDS, "dnc", "statement", "ubl"),
                         help="what the file holds (dnc: numbers for the team's do-not-call list; statement: a "
                              "bank statement, camt.053/054 or MT940; ubl: Peppol/UBL invoices and credit notes)")
    command.add_argument("file", metavar="FILE",
                         help="the CSV file (';' or ',', UTF-8 or Windows-1252) or workbook (.xlsx, .xls, .ods); "
                              "for ubl a file or a directory of them")
    command.add_argument("--map", metavar="MAPFILE",
                         help="TOML file whose [columns] table maps our column names to the file's headers")
    command.add_argument("--sheet", metavar="NAME", help="the workbook's sheet to read (default: the first)")
    command.add_argument("--shape", choices=SHAPES, default="lines",
                         help="dnc only: one number a line (default), a CSV column (--column), or the Bel-me-niet "
                              "register's export")
    command.add_argument("--column", metavar="NAME", help="dnc only: the CSV column that holds the numbers")
    command.set_defaults(handler=run)


def _map_file(path: str) -> dict[str, object]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MapError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MapError(f"{path}: not a TOML file: {exc}") from None


def load_header_row(path: str) -> int | None:
    """A map file's `header_row = N`: the spreadsheet row that holds the header (title rows above it)."""
    row = _map_file(path).get("header_row")
    if row is None:
        return None
    if isinstance(row, bool) or not isinstance(row, int) or row < 1:
        raise MapError(f"{path}: header_row must be a row number (1 or more), not {row!r}")
    return row


def load_map(path: str) -> dict[str, str]:
    """The [columns] table of a map file: canonical column → header in the CSV file."""
    data = _map_file(path)
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise MapError(f"{path}: no [columns] table (write: [columns] then lines like amount = \"Bedrag\")")
    wrong = [name for name, header in columns.items() if not isinstance(header, str)]
    if wrong:
        raise MapError(f"{path}: [columns] {wrong[0]}: the header must be text in quotes")
    return dict(columns)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Import the file in one transaction; list every problem and write nothing if there is one."""
    if args.kind == "dnc":
        return import_dnc(args, cfg)
    if args.kind == "statement":
        from .statement import import_statement
        return import_statement(args, cfg)
    if args.kind == "ubl":
        from .ubl import import_ubl
        return import_ubl(args, cfg)
    try:
        data = Path(args.file).read_bytes()
        mapping = load_map(args.map) if args.map else None
        header_row = load_header_row(args.map) if args.map else None
    except OSError as exc:
        print(f"belblok: error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except MapError as exc:
        print(f"belblok: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    progress = ProgressLine(sys.stderr)
    with sessions_for(cfg)() as session:
        try:
            with session.begin():
                result = import_csv(session, args.kind, data, mapping=mapping, region=cfg.numbers.default_region,
                                    today=utcnow().date(), progress=progress, sheet=args.sheet,
                                    header_row=header_row)
        except ImportFailed as exc:
            progress.clear()
            if len(exc.errors) == 1 and exc.errors[0].row is None and exc.errors[0].column is None:
                print(f"belblok: error: {args.file}: {exc.errors[0].message}", file=sys.stderr)
            else:
                for error in exc.errors:
                    print(error, file=sys.stderr)
                print(f"belblok: error: {args.file}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except DBAPIError as exc:  # e.g. another import of the same rows committed first
            progress.clear()
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            print(f"belblok: error: {args.file}: the database refused the import ({reason}); nothing imported",
                  file=sys.stderr)
            return EXIT_FAILED
        finally:
            progress.clear()
    print(result.summary)
    return 0
