"""Importing debtors, contacts, invoices and payments from CSV exports: check the whole file, then upsert it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..core.clock import utcnow
from ..dossiers.parties import Debtor
from ..dossiers.stats import refresh_stats
from .columns import (
    IMPORT_KINDS,
    KIND_WORDS,
    PHONE_KIND_WORDS,
    PROGRESS_EVERY,
    ROLE_WORDS,
    Column,
    Progress,
    Row,
    check_header,
    columns_for,
    read_rows,
)
from .csvreader import NotCsv, read_table
from .errors import ImportErrorItem, ImportFailed
from .plans import FUTURE_SLACK, PLANNERS, ImportContext, Plan, payment_key
from .sheetreader import is_spreadsheet, read_sheet

__all__ = ["CHUNK", "FUTURE_SLACK", "IMPORT_KINDS", "KIND_WORDS", "PHONE_KIND_WORDS", "PLANNERS", "PROGRESS_EVERY",
           "ROLE_WORDS", "Column", "ImportErrorItem", "ImportFailed", "ImportResult", "Progress", "Row",
           "columns_for", "import_csv", "payment_key"]

CHUNK = 5000  # rows per executemany


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: records of `kind` added and updated."""

    kind: str
    new: int
    updated: int

    @property
    def total(self) -> int:
        """Records in the file (for contacts: distinct contacts)."""
        return self.new + self.updated

    @property
    def summary(self) -> str:
        """One line: 'imported 120 invoices: 100 new, 20 updated'."""
        return f"imported {self.total} {self.kind}: {self.new} new, {self.updated} updated"


def import_csv(session: Session, kind: str, data: bytes, *, mapping: dict[str, str] | None, region: str,
               today: date, now: datetime | None = None, progress: Progress | None = None,
               sheet: str | None = None, header_row: int | None = None) -> ImportResult:
    """Check all of `data` (CSV, or a .xlsx/.xls/.ods workbook's sheet), then upsert it in the session's
    transaction (the caller commits), or raise ImportFailed."""
    columns = columns_for(kind, region)
    try:
        if is_spreadsheet(data):
            table = read_sheet(data, known=[c.name for c in columns], mapping=mapping, sheet=sheet,
                               header_row=header_row)
        elif sheet is not None:
            raise NotCsv(f"--sheet {sheet!r} was given, but the file is not a workbook (.xlsx, .xls or .ods)")
        else:
            table = read_table(data)
    except NotCsv as exc:
        raise ImportFailed([ImportErrorItem(None, None, str(exc))]) from None
    found, errors = check_header(kind, table, columns, mapping)
    if errors:
        raise ImportFailed(errors)
    rows = read_rows(table, found, columns, errors, progress)
    plan = PLANNERS[kind](session, rows, errors, ImportContext(region, today, now or utcnow(), frozenset(found)))
    if errors:
        order = {c.name: i for i, c in enumerate(columns)}
        raise ImportFailed(sorted(errors, key=lambda e: (e.row or 0, order.get(e.column or "", -1))))
    new, updated = len(plan.inserts), len(plan.updates)
    touched: set[int] = set()
    while True:
        _write(session, plan, progress)
        touched |= _debtor_ids(session, plan)
        if plan.then is None:
            break
        plan = plan.then()
    session.flush()
    if touched:
        # The queue ranks large books from stored statistics: keep them true in the same transaction.
        refresh_stats(session.connection(), today, now or utcnow(), sorted(touched))
    return ImportResult(kind, new, updated)


def _debtor_ids(session: Session, plan: Plan) -> set[int]:
    """The debtors a written plan touched."""
    if plan.model is Debtor:
        refs = [row["ref"] for row in plan.inserts if "ref" in row]
        ids = {row["id"] for row in plan.updates if "id" in row}
        if refs:
            ids |= set(session.scalars(select(Debtor.id).where(Debtor.ref.in_(refs))))
        return ids
    return {row["debtor_id"] for row in (*plan.inserts, *plan.updates) if row.get("debtor_id") is not None}


def _write(session: Session, plan: Plan, progress: Progress | None) -> None:
    """Core executemany inserts, then updates by id, CHUNK rows at a time (the ORM's bulk paths are 2-3x slower)."""
    table = plan.model.__table__
    updates = [{("_id" if key == "id" else key): value for key, value in row.items()} for row in plan.updates
               if len(row) > 1]
    total, done = len(plan.inserts) + len(updates), 0
    for statement, rows in ((insert(table), plan.inserts), (update(table).where(table.c.id == bindparam("_id")),
                                                            updates)):
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            for _, same_keys in groupby(chunk, key=lambda row: row.keys()):  # executemany needs one key set
                session.execute(statement, list(same_keys))
            done += len(chunk)
            if progress:
                progress(f"writing {table.name}", done, total)
