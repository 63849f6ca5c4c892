"""CSV files as accounting packages export them: encoding, delimiter and header (the values in cells: csvcells)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .csvcells import (
    CENT,
    DATE_FORMATS,
    FALSE_WORDS,
    TRUE_WORDS,
    ZERO,
    parse_amount,
    parse_bool,
    parse_code,
    parse_date,
    parse_email,
    parse_int,
    parse_language,
    parse_text,
    parse_timezone,
    parse_word,
)

__all__ = ["BINARY_SIGNATURES", "CENT", "DATE_FORMATS", "DELIMITERS", "FALSE_WORDS", "SAMPLE_CHARS", "TRUE_WORDS",
           "ZERO", "NotCsv", "Table", "decode", "header_key", "match_columns", "parse_amount", "parse_bool",
           "parse_code", "parse_date", "parse_email", "parse_int", "parse_language", "parse_text", "parse_timezone",
           "parse_word", "read_table", "sniff_delimiter"]

DELIMITERS = (";", ",", "\t", "|")  # on a tie the first wins: Dutch and Belgian exports use ';'
SAMPLE_CHARS = 65536
BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
}

_SEP_HINT = re.compile(r"^sep=(.)$")  # Excel's first-line hint, e.g. "sep=;"


class NotCsv(ValueError):
    """The data cannot be read as a CSV table; the message says why."""


@dataclass(frozen=True)
class Table:
    """A decoded CSV file: header cells, data records with their spreadsheet row numbers, and how it was read."""

    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]
    delimiter: str
    encoding: str


def decode(data: bytes) -> tuple[str, str]:
    """The text of `data` and the encoding it was read with: UTF-8 (BOM or not), UTF-16 with BOM, Windows-1252."""
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise NotCsv(f"this is {what}, not a CSV file: save it as CSV (semicolon- or comma-separated)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise NotCsv("the file starts like UTF-16 text but is not") from None
    if b"\x00" in data[:8192]:
        raise NotCsv("not a CSV file: it holds binary data")
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise NotCsv("not a CSV file: the bytes are neither UTF-8 nor Windows-1252 text") from None
    return text, "cp1252"


def _looks_binary(sample: str) -> bool:
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return controls > max(2, len(sample) // 100)


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most cells (';' on a tie)."""
    best, most = DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        if len(cells) > most:
            best, most = delimiter, len(cells)
    return best


def read_table(data: bytes) -> Table:
    """Decode and split a whole CSV file; raise NotCsv when it is not one."""
    if not data.strip():
        raise NotCsv("the file is empty")
    text, encoding = decode(data)
    text = text.lstrip("\ufeff")
    sample = text[:SAMPLE_CHARS]
    if _looks_binary(sample[:8192]):
        raise NotCsv("not a CSV file: it holds binary data")
    lines = sample.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise NotCsv("the file is empty")
    if hint := _SEP_HINT.match(lines[first].strip()):
        # Excel hides this line, so the header after it is row 1 there as here.
        delimiter = hint.group(1)
        text = text.split("\n", first + 1)[-1] if text.count("\n") > first else ""
    else:
        delimiter = sniff_delimiter(lines[first])
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(records, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_row = cells, number
            else:
                rows.append((number, cells))
    except csv.Error as exc:
        raise NotCsv(f"not a readable CSV file: {exc}") from None
    if header is None:
        raise NotCsv("the file has no header row")
    return Table(header=[cell.strip() for cell in header], header_row=header_row, rows=rows,
                 delimiter=delimiter, encoding=encoding)


def header_key(text: str) -> str:
    """A header cell as it is matched: case, surrounding spaces, '_' and inner runs of spaces do not matter."""
    return " ".join(text.replace("\ufeff", "").replace("_", " ").casefold().split())


def match_columns(header: Sequence[str], known: Sequence[str],
                  mapping: Mapping[str, str] | None = None) -> tuple[dict[str, int], list[tuple[str | None, str]]]:
    """Which header cell each known column is in (`mapping`: known name → header text), and what is wrong."""
    problems: list[tuple[str | None, str]] = []
    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(header):
        if cell.strip():
            positions.setdefault(header_key(cell), []).append(index)
    wanted = {name: name for name in known}
    mapped: set[str] = set()
    for name, cell in (mapping or {}).items():
        if name not in wanted:
            problems.append((None, f"the map names {name!r}, which is not a column here; "
                                   f"known columns: {', '.join(known)}"))
        elif not isinstance(cell, str) or not cell.strip():
            problems.append((name, f"the map gives {cell!r} for it, which is not a column header"))
        else:
            wanted[name] = cell
            mapped.add(name)
    found: dict[str, int] = {}
    for name, cell in wanted.items():
        where = positions.get(header_key(cell), [])
        if len(where) > 1:
            spots = " and ".join(str(i + 1) for i in where)
            problems.append((name, f"the header has {cell!r} more than once (cells {spots})"))
        elif where:
            found[name] = where[0]
        elif name in mapped:
            problems.append((name, f"the map says it is {cell!r}, but the header has no such column"))
    return found, problems
