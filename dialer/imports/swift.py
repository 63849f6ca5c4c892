"""SWIFT MT940 statements, as Dutch and Belgian banks write them: the tags read by the mt-940 library, the
`:86:` details (ING/ABN AMRO/Rabobank `/CODE/value/` form, the `?20` subfield form, or free text) read here."""

from __future__ import annotations

import logging
import re
from datetime import date

import mt940

from ..core.identifiers import compact
from .errors import ImportErrorItem, ImportFailed
from .statement import Credit, Statement, account_of, counter_iban_of, natural_key

# The library logs each failed pattern as an error; the failure is reported once, by line and tag, by us.
_LIBRARY_LOG = logging.getLogger("mt940")
_LIBRARY_LOG.addHandler(logging.NullHandler())
_LIBRARY_LOG.propagate = False

_STATEMENT_START = re.compile(r"(?m)^:20:")
_CODES = ("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "CNTP", "MARF", "CSID", "RTRN", "ORDP", "BENM", "ULTC",
          "ULTD", "PURP", "TRCD", "ISDT", "ADDR", "PREF", "SVCL", "KREF", "ID")
_CODE = re.compile(r"/(" + "|".join(_CODES) + r")/")
_SUBFIELD = re.compile(r"\?(\d{2})")
_IBAN_AT_START = re.compile(r"^\s*([A-Z]{2}\d{2}[A-Z0-9]{10,30})\b")


def _decode(data: bytes) -> str:
    """MT940 is ASCII by the standard; banks send UTF-8 or Windows-1252 for names."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_of(text: str, offset: int, needle: str) -> int:
    """The file's line number where `needle` first occurs after `offset` (1 if not found)."""
    found = text.find(needle, offset) if needle else -1
    return text.count("\n", 0, found if found >= 0 else offset) + 1


def read_mt940(data: bytes) -> Statement:
    """Every credit of every statement in an MT940 file, or ImportFailed naming the line and tag."""
    text = _decode(data)
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]
    if not starts:
        raise ImportFailed([ImportErrorItem(None, ":20:", "not an MT940 statement: no :20: tag")])
    statement, errors = Statement("mt940"), []
    for s, start in enumerate(starts):
        chunk = text[start: starts[s + 1] if s + 1 < len(starts) else len(text)]
        transactions = mt940.models.Transactions()
        try:
            transactions.parse(chunk)
        except (RuntimeError, ValueError) as exc:
            value = str(exc.args[2]) if len(exc.args) > 2 else ""
            tag = getattr(exc.args[1], "id", "") if len(exc.args) > 1 else ""
            line = _line_of(text, start, value.splitlines()[0] if value else "")
            errors.append(ImportErrorItem(line, f":{tag}:" if tag else None, f"cannot be read: {value[:60]!r}"))
            continue
        header = transactions.data
        if not header.get("account_identification"):
            errors.append(ImportErrorItem(_line_of(text, start, ":20:"), ":25:", "the account is missing"))
            continue
        account = account_of(re.sub(r"(EUR|USD|GBP)$", "", header["account_identification"]).split("/")[-1])
        statement.accounts.add(account)
        number = f"{header.get('statement_number') or ''}/{header.get('sequence_number') or ''}"
        for position, transaction in enumerate(transactions, start=1):
            _transaction(statement, transaction.data, account, number, position)
    if errors:
        raise ImportFailed(errors)
    return statement


def _transaction(statement: Statement, data: dict, account: str, number: str, position: int) -> None:
    """Add one `:61:` line (with its `:86:`) as a credit, or count it as a debit or a reversal."""
    status = data.get("status")
    if status == "D":
        statement.debits += 1
        return
    if status != "C":  # RC, RD: reversals
        statement.skipped += 1
        return
    booked = data.get("entry_date") or data["date"]
    amount = abs(data["amount"].amount).quantize(data["amount"].amount.__class__("0.01"))
    iban, name, reference, remittance = details(data.get("transaction_details") or "")
    issuer = None
    if reference and "/" in reference:  # STRD/BBA/010806817183: the scheme, then the reference
        issuer, _, reference = reference.rpartition("/")
    entry_ref = data.get("bank_reference") or data.get("customer_reference") or ""
    if entry_ref == "NONREF":
        entry_ref = ""
    statement.credits.append(Credit(
        key=natural_key("mt940", account, number, str(position), entry_ref), account=account,
        booked_on=date(booked.year, booked.month, booked.day), amount=amount,
        currency=data.get("currency") or data["amount"].currency or "EUR", entry_ref=entry_ref[:128],
        where=f"statement {number}, :61: #{position}", counter_iban=counter_iban_of(iban),
        counter_name=name and name[:200], reference=reference and reference[:64], issuer=issuer,
        remittance=remittance[:2000]))


def details(text: str) -> tuple[str | None, str | None, str | None, str]:
    """(payer IBAN, payer name, structured reference, free text) from a `:86:` field."""
    joined = text.replace("\n", "")
    if _CODE.search(joined):
        return _coded(joined)
    if _SUBFIELD.search(text):
        return _subfields(text.replace("\n", ""))
    free = " ".join(text.split())
    match = _IBAN_AT_START.match(free)
    return (match.group(1) if match else None), None, None, free


def _coded(text: str) -> tuple[str | None, str | None, str | None, str]:
    """The `/CODE/value/` form of ING, ABN AMRO and Rabobank."""
    marks = list(_CODE.finditer(text))
    fields: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        fields.setdefault(mark.group(1), text[mark.end():end].strip("/").strip())
    iban, name = fields.get("IBAN"), fields.get("NAME")
    if "CNTP" in fields:
        parts = fields["CNTP"].split("/")
        iban = iban or (parts[0] if parts else None)
        name = name or (parts[2] if len(parts) > 2 else None)
    reference, remittance = None, fields.get("REMI", "")
    if remittance.startswith("USTD"):
        remittance = remittance[4:].lstrip("/")
    elif remittance.startswith("STRD"):
        reference, remittance = "/".join(remittance.rstrip("/").split("/")[1:]), ""
    return iban or None, name or None, reference or None, " ".join(remittance.split())


def _subfields(text: str) -> tuple[str | None, str | None, str | None, str]:
    """The `?20…?29` subfield form: ?20-?29 and ?60-?63 the text, ?31 the account, ?32/?33 the name."""
    pieces = _SUBFIELD.split(text)
    fields: dict[int, str] = {}
    for code, value in zip(pieces[1::2], pieces[2::2], strict=False):
        fields[int(code)] = fields.get(int(code), "") + value
    remittance = "".join(fields.get(n, "") for n in (*range(20, 30), *range(60, 64)))
    name = (fields.get(32, "") + fields.get(33, "")).strip() or None
    return compact(fields.get(31, "")) or None, name, None, " ".join(remittance.split())
