"""Planning an import's upserts: per kind, which rows of the file to insert and which to update by id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..dossiers.ledger import Invoice, Payment
from ..dossiers.parties import Contact, Debtor, Phone
from ..storage.base import Base
from .columns import Row, columns_for
from .errors import ImportErrorItem

FUTURE_SLACK = timedelta(days=1)  # a payment dated "tomorrow" in UTC may be today in Europe


@dataclass
class Plan:
    """Rows of one table to insert and to update by id; `then` plans what depends on them."""

    model: type[Base]
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    then: Callable[[], Plan] | None = None

    def add(self, existing: dict[Any, int], key: Hashable, row: dict[str, Any], defaults: dict[str, Any]) -> None:
        """Update the row with this key if it exists, else insert it with `defaults` for what the file lacks."""
        if key in existing:
            self.updates.append({**row, "id": existing[key]})
        else:
            self.inserts.append({**defaults, **row})


@dataclass(frozen=True)
class ImportContext:
    """What every planner is given: the region, today and now, and the canonical columns the file has."""

    region: str
    today: date
    now: datetime
    present: frozenset[str]  # canonical columns the file has


def payment_key(debtor_ref: str, invoice_number: str | None, on: date, amount: Decimal, reference: str) -> str:
    """The natural key that makes re-importing a payment idempotent: its fields as JSON, hashed if too long."""
    text = json.dumps([debtor_ref, invoice_number or "", on.isoformat(), f"{amount:.2f}", reference],
                      ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 255 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


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


def _plan_debtors(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: ImportContext) -> Plan:
    existing, seen, plan = _keys(session, Debtor.ref, Debtor.id), {}, Plan(Debtor)
    defaults = {c.name: c.default for c in columns_for("debtors", ctx.region) if not c.required}
    defaults["created_at"] = ctx.now
    for number, values in rows:
        ref = values.get("ref")
        if ref is not None and _first(seen, ref, number, errors, "ref", f"reference {ref!r}"):
            plan.add(existing, ref, {**values, "updated_at": ctx.now}, defaults)
    return plan


def _plan_contacts(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: ImportContext) -> Plan:
    debtors, plan = _keys(session, Debtor.ref, Debtor.id), Plan(Contact)
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


def _plan_phones(session: Session, lines: list[tuple[tuple[int, str], str, dict[str, Any]]]) -> Plan:
    """The phones of the contacts just written: each file row adds or updates one."""
    contacts = _keys(session, Contact.debtor_id, Contact.name, Contact.id)
    existing, plan = _keys(session, Phone.contact_id, Phone.number, Phone.id), Plan(Phone)
    defaults = {"label": None, "kind": "direct", "refuses_anonymous": False}
    for key, number, values in lines:
        row = {"contact_id": contacts[key], "number": number}
        row |= {name: values[column] for name, column in (("label", "phone_label"), ("kind", "phone_kind"))
                if column in values}
        plan.add(existing, (contacts[key], number), row, defaults)
    return plan


def _plan_invoices(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: ImportContext) -> Plan:
    debtors, seen, plan = _keys(session, Debtor.ref, Debtor.id), {}, Plan(Invoice)
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


def _plan_payments(session: Session, rows: list[Row], errors: list[ImportErrorItem], ctx: ImportContext) -> Plan:
    debtors, seen, plan = _keys(session, Debtor.ref, Debtor.id), {}, Plan(Payment)
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


PLANNERS: dict[str, Callable[[Session, list[Row], list[ImportErrorItem], ImportContext], Plan]] = {
    "debtors": _plan_debtors, "contacts": _plan_contacts, "invoices": _plan_invoices, "payments": _plan_payments,
}
