"""CSV files as accounting packages export them: encoding, delimiter, header and the values in cells."""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DELIMITERS = (";", ",", "\t", "|")  # on a tie the first wins: Dutch and Belgian exports use ';'
SAMPLE_CHARS = 65536
BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
}
TRUE_WORDS = frozenset({"1", "true", "yes", "ja", "j", "y", "waar", "vrai", "oui", "x"})
FALSE_WORDS = frozenset({"0", "false", "no", "nee", "n", "onwaar", "faux", "non"})

_SEP_HINT = re.compile(r"^sep=(.)$")  # Excel's first-line hint, e.g. "sep=;"
_PLAIN_AMOUNT = re.compile(r"-?\d{1,15}(?:[.,]\d{1,2})?", re.ASCII)
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:([.,' \u00a0\u202f\u2019])\d{3})(?:\1\d{3})*", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})", re.ASCII)
_DMY_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", re.ASCII)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)  # yyyymmdd, as ING's exports write it
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", re.ASCII)
DATE_FORMATS = "dd-mm-yyyy, dd/mm/yyyy or yyyy-mm-dd"


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


def parse_text(text: str, limit: int) -> str:
    """Text of at most `limit` characters, surrounding spaces removed."""
    value = text.strip()
    if len(value) > limit:
        raise ValueError(f"{_show(value)} is longer than {limit} characters")
    return value


def parse_amount(text: str) -> Decimal:
    """An amount in Dutch, Belgian or English notation ('1.234,56', '1,234.56', '1234.56', '-12,5', '€ 3')."""
    value = text.strip()
    if _PLAIN_AMOUNT.fullmatch(value):
        amount = Decimal(value.replace(",", ".")).quantize(CENT)
        return amount if amount else ZERO  # no "-0.00"
    body = value.replace("€", "").strip()
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    if body.startswith(("+", "-")):
        negative, body = negative != (body[0] == "-"), body[1:].strip()
    elif body.endswith("-"):  # "123,45-": some ledgers put the sign last
        negative, body = True, body[:-1].strip()
    if not body or not _is_digits(body[0]) or not _is_digits(body[-1]):
        raise ValueError(f"{_show(text)} is not an amount")
    whole, fraction = body, ""
    last = max(body.rfind("."), body.rfind(","))
    tail = body[last + 1:] if last >= 0 else ""
    if last >= 0 and len(tail) <= 2 and _is_digits(tail):
        whole, fraction = body[:last], tail
        if body[last] in whole:
            raise ValueError(f"{_show(text)} is not an amount")
    if not _is_digits(whole):
        if not _GROUPED.fullmatch(whole):
            if last >= 0 and _is_digits(body[:last]) and _is_digits(tail):
                raise ValueError(f"{_show(text)} has more than two decimals")
            raise ValueError(f"{_show(text)} is not an amount")
        whole = re.sub(r"\D", "", whole)
    if len(whole) > 15:
        raise ValueError(f"{_show(text)} is too large an amount")
    amount = Decimal(f"{whole}.{fraction or '0'}").quantize(CENT)
    return -amount if negative and amount else amount


def parse_date(text: str) -> date:
    """A date written dd-mm-yyyy, dd/mm/yyyy, dd.mm.yyyy, yyyy-mm-dd or yyyymmdd (a time after it is ignored)."""
    value = _TIME_SUFFIX.sub("", text.strip())
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = match.group(1), match.group(3), match.group(4)
    elif match := _DMY_DATE.fullmatch(value):
        day, month, year = match.group(1), match.group(3), match.group(4)
    elif match := _COMPACT_DATE.fullmatch(value):
        year, month, day = match.groups()
    else:
        raise ValueError(f"{_show(text)} is not a date (write {DATE_FORMATS})")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{_show(text)} is not a valid date (day or month out of range; dates are {DATE_FORMATS})") \
            from None


def parse_bool(text: str) -> bool:
    """Yes or no: 1/0, true/false, yes/no, ja/nee (and waar/onwaar, j/n, y/n, x); empty is no."""
    value = text.strip().casefold()
    if not value or value in FALSE_WORDS:
        return False
    if value in TRUE_WORDS:
        return True
    raise ValueError(f"{_show(text)} is not yes or no (write 1/0, true/false, yes/no or ja/nee)")


def parse_int(text: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`."""
    value = text.strip()
    if not re.fullmatch(r"[-+]?[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise ValueError(f"{_show(text)} is not a whole number from {low} to {high}")
    return int(value)


def parse_word(words: Mapping[str, str], what: str, text: str) -> str:
    """One of a few words, in any case, '_', '-' or ' ' alike ('Credit-Manager' → 'credit_manager')."""
    value = words.get(" ".join(text.replace("_", " ").replace("-", " ").casefold().split()))
    if value is None:
        raise ValueError(f"{_show(text)} is not {what} (use {', '.join(sorted(set(words.values())))})")
    return value


def parse_code(length: int, what: str, text: str) -> str:
    """A code of `length` letters in upper case: a country ('NL') or a currency ('EUR')."""
    value = text.strip()
    if len(value) != length or not value.isascii() or not value.isalpha():
        raise ValueError(f"{_show(value)} is not {what}")
    return value.upper()


def parse_language(text: str) -> str:
    """A language code: 'nl', 'fr', 'nl-BE'."""
    value = text.strip()
    head, _, tail = value.partition("-")
    if not (2 <= len(head) <= 3 and head.isascii() and head.isalpha()) or len(value) > 8:
        raise ValueError(f"{_show(value)} is not a language code such as 'nl' or 'fr'")
    return head.lower() + (f"-{tail}" if tail else "")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(text: str) -> str:
    """An IANA time zone name such as 'Europe/Amsterdam'."""
    value = text.strip()
    if value not in _zones():
        raise ValueError(f"{_show(value)} is not a time zone such as 'Europe/Amsterdam'")
    return value


def parse_email(text: str) -> str:
    """An e-mail address (checked loosely: something@domain.tld)."""
    value = parse_text(text, 254)
    local, at, domain = value.partition("@")
    if not local or not at or "@" in domain or "." not in domain.strip(".") or any(ch.isspace() for ch in value):
        raise ValueError(f"{_show(value)} is not an e-mail address")
    return value


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _show(text: str) -> str:
    shown = text.strip()
    return repr(shown if len(shown) <= 60 else shown[:57] + "...")
