"""Spreadsheets (.xlsx, .xls, .ods) read into the same Table as a CSV file, Excel's cell types made text."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from python_calamine import CalamineError, CalamineWorkbook

from .csvreader import NotCsv, Table, header_key

# What a spreadsheet starts with: a ZIP archive (.xlsx, .ods) or an OLE2 compound file (.xls).
SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
HEADER_SEARCH = 20  # rows looked at for the header under a title block
MIN_MATCHES = 2  # known column names a row needs to be taken for the header


def is_spreadsheet(data: bytes) -> bool:
    """Whether `data` is a workbook rather than a text file."""
    return data.startswith(SIGNATURES)


def read_sheet(data: bytes, *, known: Sequence[str], mapping: Mapping[str, str] | None = None,
               sheet: str | None = None, header_row: int | None = None) -> Table:
    """One sheet (the first, or `sheet`) as a Table; its header row given, or found under any title rows."""
    try:
        book = _open(data)
    except (CalamineError, ValueError, OSError) as exc:
        raise NotCsv(f"not a readable spreadsheet (.xlsx, .xls or .ods): {exc}") from None
    names = list(book.sheet_names)
    if sheet is not None and sheet not in names:
        raise NotCsv(f"the workbook has no sheet {sheet!r}; its sheets: {', '.join(names)}")
    if not names:
        raise NotCsv("the workbook has no sheets")
    try:
        cells = book.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as exc:
        raise NotCsv(f"sheet {sheet or names[0]!r} cannot be read: {exc}") from None
    rows = [(number, [cell_text(v) for v in row]) for number, row in enumerate(cells, start=1)]
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise NotCsv(f"sheet {sheet or names[0]!r} is empty")
    if header_row is not None:
        found = [i for i, (n, _) in enumerate(rows) if n == header_row]
        if not found:
            raise NotCsv(f"row {header_row} of sheet {sheet or names[0]!r} is empty: it cannot be the header")
        at = found[0]
    else:
        at = _header_index(rows, known, mapping)
    number, header = rows[at]
    return Table(header=[c.strip() for c in header], header_row=number, rows=rows[at + 1:], delimiter="",
                 encoding="xlsx")


def _open(data: bytes) -> CalamineWorkbook:
    """The workbook; an OpenDocument file through a named temporary file (calamine tells .ods by its suffix)."""
    if data[30:38] == b"mimetype" and b"opendocument.spreadsheet" in data[:100]:
        with tempfile.NamedTemporaryFile(suffix=".ods") as handle:
            handle.write(data)
            handle.flush()
            return CalamineWorkbook.from_path(handle.name)
    return CalamineWorkbook.from_filelike(io.BytesIO(data))


def _header_index(rows: list[tuple[int, list[str]]], known: Sequence[str], mapping: Mapping[str, str] | None
                  ) -> int:
    """The first row holding at least MIN_MATCHES column names (a title block above it is skipped), else row 1."""
    names = {header_key(n) for n in known} | {header_key(h) for h in (mapping or {}).values() if isinstance(h, str)}
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH]):
        if sum(1 for c in cells if header_key(c) in names) >= min(MIN_MATCHES, len(names)):
            return index
    return 0


def cell_text(value: object) -> str:
    """A cell as the CSV text the column parsers read: dates ISO, numbers with a decimal point, never grouped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        exact = Decimal(repr(value))
        cents = exact.quantize(Decimal("0.01"))
        if abs(exact - cents) < Decimal("0.000001"):  # 12.3 or a float's 0.30000000000000004
            return f"{cents.normalize():f}" if cents != cents.to_integral() else str(int(cents))
        # More than two decimals: written with four or more, never "1.234", which reads as a thousands group.
        text = f"{exact:f}"
        whole, _, fraction = text.partition(".")
        return f"{whole}.{fraction.ljust(4, '0')}"
    return str(value)
