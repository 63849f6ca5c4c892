"""Importing debtors, contacts, invoices and payments from CSV exports: check the whole file, then upsert it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .clock import utcnow
from .csvreader import NotCsv, Table, match_columns, parse_amount, parse_bool, parse_code, parse_date, parse_email, \
    parse_int, parse_language, parse_text, parse_timezone, parse_word, read_table
from .dossierstats import refresh_stats
from .ledger import Invoice, Payment
from .models import Base
from .numbers import normalise
from .parties import Contact, Debtor, Phone

IMPORT_KINDS = ("debtors", "contacts", "invoices", "payments")
CHUNK = 5000  # rows per executemany
PROGRESS_EVERY = 1000
FUTURE_SLACK = timedelta(days=1)  # a payment dated "tomorrow" in UTC may be today in Europe

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
class ImportErrorItem:
    """One problem in an import file: where (row and column, when known) and why."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.row and f"row {self.row}", self.column and f"column {self.column}")
                          if part)
        return f"{where}: {self.message}" if where else self.message


class ImportFailed(Exception):
    """Nothing was imported; `errors` lists every problem found in the file."""

    def __init__(self, errors: list[ImportErrorItem]) -> None:
        super().__init__(f"{len(errors)} error{'s' if len(errors) != 1 else ''}, nothing imported")
        self.errors = errors


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


@dataclass(frozen=True)
class Column:
    """A canonical column: how a cell is read, whether it needs a value, and the value of an empty cell."""

    name: str
    parse: Callable[[str], Any]
    required: bool = False
    default: Any = None


@dataclass
class _Plan:
    """Rows of one table to insert and to update by id; `then` plans what depends on them."""

    model: type[Base]
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    then: Callable[[], _Plan] | None = None

    def add(self, existing: dict[Any, int], key: Hashable, row: dict[str, Any], defaults: dict[str, Any]) -> None:
        """Update the row with this key if it exists, else insert it with `defaults` for what the file lacks."""
        if key in existing:
            self.updates.append({**row, "id": existing[key]})
        else:
            self.inserts.append({**defaults, **row})


@dataclass(frozen=True)
class _Context:
    region: str
    today: date
    now: datetime
    present: frozenset[str]  # canonical columns the file has


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
                Column("notes", _text(limit=100_000)))
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
                Column("description", _text(limit=100_000)))
    if kind == "payments":
        return (Column("debtor_ref", _text(limit=64), True), Column("invoice_number", _text(limit=64)),
                Column("date", parse_date, True), Column("amount", parse_amount, True),
                Column("reference", _text(limit=128), default=""))
    raise ValueError(f"unknown import kind {kind!r}: use one of {', '.join(IMPORT_KINDS)}")


def payment_key(debtor_ref: str, invoice_number: str | None, on: date, amount: Decimal, reference: str) -> str:
    """The natural key that makes re-importing a payment idempotent: its fields as JSON, hashed if too long."""
    text = json.dumps([debtor_ref, invoice_number or "", on.isoformat(), f"{amount:.2f}", reference],
                      ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 255 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def import_csv(session: Session, kind: str, data: bytes, *, mapping: dict[str, str] | None, region: str,
               today: date, now: datetime | None = None, progress: Progress | None = None) -> ImportResult:
    """Check all of `data`, then upsert it in the session's transaction (the caller commits), or raise ImportFailed."""
    columns = columns_for(kind, region)
    try:
        table = read_table(data)
    except NotCsv as exc:
        raise ImportFailed([ImportErrorItem(None, None, str(exc))]) from None
    found, errors = _check_header(kind, table, columns, mapping)
    if errors:
        raise ImportFailed(errors)
    rows = _read_rows(table, found, columns, errors, progress)
    plan = PLANNERS[kind](session, rows, errors, _Context(region, today, now or utcnow(), frozenset(found)))
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


def _debtor_ids(session: Session, plan: _Plan) -> set[int]:
    """The debtors a written plan touched."""
    if plan.model is Debtor:
        refs = [row["ref"] for row in plan.inserts if "ref" in row]
        ids = {row["id"] for row in plan.updates if "id" in row}
        if refs:
            ids |= set(session.scalars(select(Debtor.id).where(Debtor.ref.in_(refs))))
        return ids
    return {row["debtor_id"] for row in (*plan.inserts, *plan.updates) if row.get("debtor_id") is not None}


def _check_header(kind: str, table: Table, columns: tuple[Column, ...],
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


def _read_rows(table: Table, found: dict[str, int], columns: tuple[Column, ...], errors: list[ImportErrorItem],
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


def _keys(session: Session, *columns: Any) -> dict[Any, int]:
    """Existing rows by key: the last column is the id, the ones before it the key."""
    if len(columns) == 2:
        return {key: id_ for key, id_ in session.execute(select(*columns))}
    return {tuple(row[:-1]): row[-1] for row in session.execute(select(*columns))}


def _first(seen: dict[Hashable, int], key: Hashable, number: int, errors: list[ImportErrorItem], column: str,
           what: str) -> bool:
    """True the first time `key` is seen in the file; a duplicate is an error."""
    if key in seen:
        errors.append(ImportErrorItem(number, column, f"duplicate {what} (also on row {seen[key]})"))
        return False
    seen[key] = number
    return True


def _debtor_id(debtors: dict[str, int], number: int, ref: str, errors: list[ImportErrorItem]) -> int | None:
    if ref not in debtors:
        errors.append(ImportErrorItem(number, "debtor_ref", f"no debtor with reference {ref!r}; import it first"))
    return debtors.get(ref)


def _plan_debtors(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: _Context) -> _Plan:
    existing, seen, plan = _keys(session, Debtor.ref, Debtor.id), {}, _Plan(Debtor)
    defaults = {c.name: c.default for c in columns_for("debtors", ctx.region) if not c.required}
    defaults["created_at"] = ctx.now
    for number, values in rows:
        ref = values.get("ref")
        if ref is not None and _first(seen, ref, number, errors, "ref", f"reference {ref!r}"):
            plan.add(existing, ref, {**values, "updated_at": ctx.now}, defaults)
    return plan


def _plan_contacts(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: _Context) -> _Plan:
    debtors, plan = _keys(session, Debtor.ref, Debtor.id), _Plan(Contact)
    contacts: dict[tuple[int, str], dict[str, Any]] = {}
    given: dict[tuple[tuple[int, str], str], int] = {}  # (contact, "role" or "email") → the row that gave it
    phones: dict[Hashable, int] = {}
    lines: list[tuple[tuple[int, str], str, dict[str, Any]]] = []
    for number, values in rows:
        ref, name, phone = values.get("debtor_ref"), values.get("name"), values.get("phone")
        debtor_id = None if ref is None else _debtor_id(debtors, number, ref, errors)
        if debtor_id is None or name is None:
            continue
        key = (debtor_id, name)
        contact = contacts.setdefault(key, {"debtor_id": debtor_id, "name": name})
        for attr in ("role", "email"):
            if values.get(attr) is None:
                continue
            if (key, attr) in given and contact[attr] != values[attr]:
                errors.append(ImportErrorItem(number, attr, f"{values[attr]!r} differs from {contact[attr]!r} "
                                                            f"given for {name!r} on row {given[key, attr]}"))
            contact[attr], given[key, attr] = values[attr], given.get((key, attr), number)
        unread = {"phone", "email"} & (ctx.present - values.keys())  # cells already reported
        if phone is None and values.get("email") is None and not unread:
            errors.append(ImportErrorItem(number, "phone", "a phone number or an e-mail address is required"))
        if "phone" in unread:
            continue
        column, what = ("phone", f"phone number {phone} of {name!r}") if phone else ("name", f"contact {name!r}")
        if _first(phones, (key, phone), number, errors, column, f"{what} of debtor {ref!r}") and phone:
            lines.append((key, phone, values))
    existing = _keys(session, Contact.debtor_id, Contact.name, Contact.id)
    for key, contact in contacts.items():
        cleared = {attr: default for attr, default in (("role", "other"), ("email", None)) if attr in ctx.present}
        plan.add(existing, key, cleared | contact, {"role": "other", "email": None})
    plan.then = partial(_plan_phones, session, lines)
    return plan


def _plan_phones(session: Session, lines: list[tuple[tuple[int, str], str, dict[str, Any]]]) -> _Plan:
    """The phones of the contacts just written: each file row adds or updates one."""
    contacts = _keys(session, Contact.debtor_id, Contact.name, Contact.id)
    existing, plan = _keys(session, Phone.contact_id, Phone.number, Phone.id), _Plan(Phone)
    defaults = {"label": None, "kind": "direct", "refuses_anonymous": False}
    for key, number, values in lines:
        row = {"contact_id": contacts[key], "number": number}
        row |= {name: values[column] for name, column in (("label", "phone_label"), ("kind", "phone_kind"))
                if column in values}
        plan.add(existing, (contacts[key], number), row, defaults)
    return plan


def _plan_invoices(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: _Context) -> _Plan:
    debtors, seen, plan = _keys(session, Debtor.ref, Debtor.id), {}, _Plan(Invoice)
    existing = _keys(session, Invoice.debtor_id, Invoice.number, Invoice.id)
    defaults = {c.name: c.default for c in columns_for("invoices", ctx.region) if not c.required}
    for number, values in rows:
        ref, invoice = values.pop("debtor_ref", None), values.get("number")
        debtor_id = None if ref is None else _debtor_id(debtors, number, ref, errors)
        if debtor_id is None or invoice is None:
            continue
        key = (debtor_id, invoice)
        if _first(seen, key, number, errors, "number", f"invoice {invoice!r} of debtor {ref!r}"):
            if "open_amount" in values and values["open_amount"] is None:
                values["open_amount"] = values.get("amount")  # present but empty: nothing paid yet
            plan.add(existing, key, {**values, "debtor_id": debtor_id},
                     {**defaults, "open_amount": values.get("amount")})
    return plan


def _plan_payments(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: _Context) -> _Plan:
    debtors, seen, plan = _keys(session, Debtor.ref, Debtor.id), {}, _Plan(Payment)
    invoices = _keys(session, Invoice.debtor_id, Invoice.number, Invoice.id)
    existing = _keys(session, Payment.natural_key, Payment.id)
    for number, values in rows:
        ref, invoice, on, amount = (values.get(k) for k in ("debtor_ref", "invoice_number", "date", "amount"))
        debtor_id = None if ref is None else _debtor_id(debtors, number, ref, errors)
        if debtor_id is not None and invoice and (debtor_id, invoice) not in invoices:
            errors.append(ImportErrorItem(number, "invoice_number", f"no invoice {invoice!r} of debtor {ref!r}"))
        if on is not None and on > ctx.today + FUTURE_SLACK:
            errors.append(ImportErrorItem(number, "date", f"{on:%d-%m-%Y} is in the future"))
        reference = values.get("reference", None if "reference" in ctx.present else "")
        if debtor_id is None or on is None or amount is None or reference is None:
            continue
        key = payment_key(ref, invoice, on, amount, reference)
        if _first(seen, key, number, errors, "reference", "payment: same debtor, invoice, date, amount, reference"):
            plan.add(existing, key, {"debtor_id": debtor_id, "invoice_id": invoices.get((debtor_id, invoice)),
                                     "date": on, "amount": amount, "reference": reference,
                                     "natural_key": key}, {})
    return plan


PLANNERS: dict[str, Callable[[Session, list[Row], list[ImportErrorItem], _Context], _Plan]] = {
    "debtors": _plan_debtors, "contacts": _plan_contacts, "invoices": _plan_invoices, "payments": _plan_payments,
}


def _write(session: Session, plan: _Plan, progress: Progress | None) -> None:
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
