"""`belblok import ubl FILE|DIR`: Peppol / UBL invoices and credit notes, every file checked, then all or nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from ..core.clock import utcnow
from ..imports.einvoice import import_einvoices
from ..imports.errors import ImportFailed
from ..imports.ubl import read_documents
from ..settings.config import Config
from .common import sessions_for
from .progressline import ProgressLine

EXIT_FAILED = 1


def e_invoice_files(path: Path) -> list[Path]:
    """The file, or every *.xml file of the directory (any case of the suffix), sorted by name."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".xml")
    return [path]


def problems(where: str, failure: ImportFailed | DBAPIError) -> list[str]:
    """The lines stderr gets when nothing was imported: each problem, then the verdict, as the CSV imports print."""
    if isinstance(failure, DBAPIError):  # e.g. another import of the same invoices committed first
        why = str(failure.orig).splitlines()[0] if failure.orig else type(failure).__name__
        return [f"belblok: error: {where}: the database refused the import ({why}); nothing imported"]
    return [*map(str, failure.errors), f"belblok: error: {where}: {failure}"]


def import_ubl(args: argparse.Namespace, cfg: Config) -> int:
    """Read every e-invoice of FILE or DIR, then write all of them in one transaction, or none."""
    try:
        files = [(path.name, path.read_bytes()) for path in e_invoice_files(Path(args.file))]
    except OSError as exc:
        print(f"belblok: error: cannot read {exc.filename or args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    if not files:
        print(f"belblok: error: {args.file}: no .xml files in the directory; nothing imported", file=sys.stderr)
        return EXIT_FAILED
    counter = ProgressLine(sys.stderr)  # drawn from 1,000 documents
    try:
        documents = read_documents(files, region=cfg.numbers.default_region, progress=counter)
        with sessions_for(cfg)() as session, session.begin():
            result = import_einvoices(session, documents, today=utcnow().date(), progress=counter)
    except (ImportFailed, DBAPIError) as failure:
        counter.clear()
        print("\n".join(problems(args.file, failure)), file=sys.stderr)
        return EXIT_FAILED
    counter.clear()
    print(result.summary)
    return 0
