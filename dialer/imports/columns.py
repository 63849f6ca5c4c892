"""The columns of each import kind, and reading a file's header and rows into them, every problem reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..core.identifiers import parse_company_number, parse_iban, parse_payment_reference, parse_vat
from ..core.numbers import normalise
from .csvcells import (
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
from .csvreader import Table, match_columns
from .errors import ImportErrorItem

IMPORT_KINDS = ("debtors", "contacts", "invoices", "payments")
PROGRESS_EVERY = 1000

KIND_WORDS = {"company": "company", "bedrijf": "company", "zakelijk": "company", "b2b": "company",
              "person": "person", "persoon": "person", "particulier": "person", "consument": "person",
              "consumer": "person", "b2c": "person"}
ROLE_WORDS = {"owner": "owner", "eigenaar": "owner", "credit manager": "credit_manager",
              "creditmanager": "credit_manager", "bookkeeper": "bookkeeper", "boekhouder": "bookkeeper",
              "boekhouding": "bookkeeper", "administratie": "bookkeeper", "administrateur": "bookkeeper",
              "other": "other", "overig": "other", "anders": "other"}
PHONE_KIND_WORDS = {"direct": "direct", "doorkies": "direct", "mobiel": "direct", "mobile": "direct",
                    "switchboard": "switchboard", "centrale": "switchboard", "receptie": "switchboard"}

Progress = Callable[[str, int, int], None]  # (stage, rows done, rows in all)
Row = tuple[int, dict[str, Any]]  # spreadsheet row number, canonical values


@dataclass(frozen=True)
class Column:
    """A canonical column: how a cell is read, whether it needs a value, and the value of an empty cell."""

    name: str
    parse: Callable[[str], Any]
    required: bool = False
    default: Any = None


def _text(limit: int) -> Callable[[str], str]:
    """A parser of text up to `limit` characters."""
    return partial(parse_text, limit=limit)


def columns_for(kind: str, region: str) -> tuple[Column, ...]:
    """The canonical columns of an import kind; `region` reads national phone numbers and is the default country."""
    if kind == "debtors":
        return (Column("ref", _text(limit=64), True), Column("name", _text(limit=200), True),
                Column("kind", partial(parse_word, KIND_WORDS, "a kind"), default="company"),
                Column("country", partial(parse_code, 2, "a country code such as 'NL' or 'BE'"),
                       default=region.upper()),
                Column("customer_since", parse_date), Column("language", parse_language, default="nl"),
                Column("do_not_call", parse_bool, default=False), Column("written_only", parse_bool, default=False),
                Column("insolvent", parse_bool, default=False), Column("region", _text(limit=16)),
                Column("timezone", parse_timezone), Column("payment_day", partial(parse_int, low=1, high=31)),
                Column("notes", _text(limit=100_000)), Column("iban", parse_iban), Column("vat_number", parse_vat),
                Column("company_number", parse_company_number))
    if kind == "contacts":
        return (Column("debtor_ref", _text(limit=64), True), Column("name", _text(limit=200), True),
                Column("role", partial(parse_word, ROLE_WORDS, "a role")),
                Column("phone", lambda raw: normalise(raw, region)), Column("phone_label", _text(limit=64)),
                Column("phone_kind", partial(parse_word, PHONE_KIND_WORDS, "a kind of line"), default="direct"),
                Column("email", parse_email))
    if kind == "invoices":
        return (Column("debtor_ref", _text(limit=64), True), Column("number", _text(limit=64), True),
                Column("date", parse_date, True), Column("due_date", parse_date, True),
                Column("amount", parse_amount, True), Column("open_amount", parse_amount),
                Column("currency", partial(parse_code, 3, "a currency code such as 'EUR'"), default="EUR"),
                Column("delivered_on", parse_date), Column("delivery_method", _text(limit=64)),
                Column("description", _text(limit=100_000)),
                Column("payment_reference", parse_payment_reference))
    if kind == "payments":
        return (Column("debtor_ref", _text(limit=64), True), Column("invoice_number", _text(limit=64)),
                Column("date", parse_date, True), Column("amount", parse_amount, True),
                Column("reference", _text(limit=128), default=""))
    raise ValueError(f"unknown import kind {kind!r}: use one of {', '.join(IMPORT_KINDS)}")


def check_header(kind: str, table: Table, columns: tuple[Column, ...],
                 mapping: dict[str, str] | None) -> tuple[dict[str, int], list[ImportErrorItem]]:
    """Where each canonical column is, and what is wrong with the header (or the map)."""
    found, problems = match_columns(table.header, [c.name for c in columns], mapping)
    if not found and not problems:
        shown = ", ".join(repr(cell) for cell in table.header[:6]) + (", ..." if len(table.header) > 6 else "")
        return found, [ImportErrorItem(None, None, (
            f"not a CSV file of {kind}: no column of its header ({shown}) is one of "
            f"{', '.join(c.name for c in columns)}; separate values with ';' or ',', or name other headers "
            f"in a map file"))]
    errors = [ImportErrorItem(table.header_row if column else None, column, message) for column, message in problems]
    named = {e.column for e in errors}
    errors += [ImportErrorItem(table.header_row, c.name, "missing column (required)")
               for c in columns if c.required and c.name not in found and c.name not in named]
    if kind == "contacts" and not {"phone", "email"} & (found.keys() | named):
        errors.append(ImportErrorItem(table.header_row, "phone", "missing column: contacts need a phone or an email"))
    return found, errors


def read_rows(table: Table, found: dict[str, int], columns: tuple[Column, ...], errors: list[ImportErrorItem],
              progress: Progress | None) -> list[Row]:
    """Every data row as canonical values; a cell that cannot be read is left out and reported."""
    width, total = len(table.header), len(table.rows)
    present = [(c.name, c.parse, c.required, c.default, found[c.name]) for c in columns if c.name in found]
    rows: list[Row] = []
    for done, (number, cells) in enumerate(table.rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress("checking", done, total)
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            errors.append(ImportErrorItem(number, None, f"{len(cells)} cells but the header has {width}: a value "
                                                        f"containing {table.delimiter!r} must be in double quotes"))
            continue
        values: dict[str, Any] = {}
        for name, parse, required, default, index in present:
            raw = cells[index] if index < len(cells) else ""
            if not raw.strip():
                if required:
                    errors.append(ImportErrorItem(number, name, "a value is required"))
                else:
                    values[name] = default
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                errors.append(ImportErrorItem(number, name, str(exc)))
        rows.append((number, values))
    return rows
