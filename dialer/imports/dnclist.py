"""Do-not-call files read whole: one number a line, a CSV column, or the Bel-me-niet register's export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..core.numbers import InvalidNumber, normalise
from .csvreader import NotCsv, decode, sniff_delimiter
from .errors import ImportErrorItem, ImportFailed

SHAPES = ("lines", "csv", "belmeniet")
# The Bel-me-niet register (bel-me-niet.nl) hands organisations a CSV with one Dutch number per row under a
# "telefoonnummer" header, national format (0201234567), ';'-separated; we read that header case-insensitively.
BELMENIET_COLUMN = "telefoonnummer"


@dataclass(frozen=True)
class DncFile:
    """The numbers of one file, normalised to E.164, and how many lines held them."""

    numbers: tuple[str, ...]
    lines: int


def read_dnc(data: bytes, *, shape: str = "lines", column: str | None = None, region: str = "NL") -> DncFile:
    """Every number of the file, or ImportFailed naming each bad line (nothing is taken from a bad file)."""
    if shape not in SHAPES:
        raise ImportFailed([ImportErrorItem(None, None, f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")])
    try:
        text, _ = decode(data)
    except NotCsv as exc:
        raise ImportFailed([ImportErrorItem(None, None, str(exc))]) from None
    if shape == "lines":
        rows = [(i, None, line.split("#", 1)[0].strip()) for i, line in enumerate(text.splitlines(), 1)]
    else:
        rows = _column(text, BELMENIET_COLUMN if shape == "belmeniet" else column, region)
    numbers, errors = [], []
    for line, header, raw in rows:
        if not raw:
            continue
        try:
            numbers.append(normalise(raw, region))
        except InvalidNumber as exc:
            errors.append(ImportErrorItem(line, header, str(exc)))
    if errors:
        raise ImportFailed(errors)
    if not numbers:
        raise ImportFailed([ImportErrorItem(None, None, "the file holds no phone numbers")])
    return DncFile(tuple(numbers), len(rows))


def _column(text: str, column: str | None, region: str) -> list[tuple[int, str | None, str]]:
    lines = text.splitlines()
    if not lines:
        return []
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(lines[0]))
    header = [h.strip() for h in next(reader)]
    lowered = [h.lower() for h in header]
    if column is None:
        if len(header) != 1:
            raise ImportFailed([ImportErrorItem(1, None, f"the file has {len(header)} columns: name the one with "
                                                         f"the numbers with --column (one of {', '.join(header)})")])
        index = 0
    elif column.lower() in lowered:
        index = lowered.index(column.lower())
    else:
        raise ImportFailed([ImportErrorItem(1, column, f"no column {column!r} in the header "
                                                       f"({', '.join(header) or 'empty'})")])
    return [(n, header[index], (row[index] if index < len(row) else "").strip())
            for n, row in enumerate(reader, 2)]
