"""ISO 20022 camt.053 (statement) and camt.054 (notification) XML: the credits booked on our account.

Parsed with defusedxml: a file with a DTD or entities is refused before anything is expanded. Namespaces
differ per version (camt.053.001.02 to .001.13), so elements are found by their local names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..core.identifiers import compact
from .errors import ImportErrorItem, ImportFailed
from .statement import Credit, Statement, account_of, amount_of, counter_iban_of, natural_key

_ROOTS = {"BkToCstmrStmt": ("camt.053", "Stmt"), "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn")}


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else element.findall(name)


def _find(element: Element | None, path: str) -> Element | None:
    """The first element down a '/'-separated path of local names."""
    return None if element is None else element.find(path)


def _text(element: Element | None, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _parse(data: bytes) -> Element:
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise ImportFailed([ImportErrorItem(None, None, "the XML declares a DTD or entities, which a bank statement "
                                                        "never does; refused unread")]) from None
    except ParseError as exc:
        line, column = exc.position
        raise ImportFailed([ImportErrorItem(line, None, f"not well-formed XML (line {line}, column {column})")]) \
            from None
    for element in root.iter():  # local names once, so that ElementTree's own (C) paths find them
        if isinstance(element.tag, str):
            element.tag = element.tag.rpartition("}")[2]
    return root


def read_camt(data: bytes) -> Statement:
    """Every booked credit of a camt.053 or camt.054 document, or ImportFailed listing each bad element."""
    root = _parse(data)
    body = next(iter(root), None) if root.tag == "Document" else None
    if body is None or body.tag not in _ROOTS:
        raise ImportFailed([ImportErrorItem(None, root.tag, "not a camt.053 or camt.054 document (expected "
                                                                "Document/BkToCstmrStmt or BkToCstmrDbtCdtNtfctn)")])
    kind, report = _ROOTS[body.tag]
    statement, errors = Statement(kind), []
    for s, stmt in enumerate(_children(body, report), start=1):
        where = f"{report}[{s}]"
        account = account_of(_text(stmt, "Acct/Id/IBAN") or _text(stmt, "Acct/Id/Othr/Id"))
        if account == "?":
            errors.append(ImportErrorItem(None, f"{where}/Acct/Id", "the account is missing"))
        statement.accounts.add(account)
        for n, entry in enumerate(_children(stmt, "Ntry"), start=1):
            _entry(statement, entry, account, f"{where}/Ntry[{n}]", errors)
    if errors:
        raise ImportFailed(errors)
    return statement


def _booked_on(entry: Element, where: str, errors: list[ImportErrorItem]) -> date | None:
    raw = _text(entry, "BookgDt/Dt") or (_text(entry, "BookgDt/DtTm") or "")[:10] or _text(entry, "ValDt/Dt")
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        errors.append(ImportErrorItem(None, f"{where}/BookgDt", f"{raw!r} is not a date (yyyy-mm-dd)"))
        return None


def _entry(statement: Statement, entry: Element, account: str, where: str, errors: list[ImportErrorItem]) -> None:
    """Add one entry's credits (one, or one per detailed transaction of a batch booking)."""
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    sign = _text(entry, "CdtDbtInd")
    amount_element = _find(entry, "Amt")
    amount = amount_of(amount_element.text if amount_element is not None else None, f"{where}/Amt", errors)
    if sign not in ("CRDT", "DBIT"):
        errors.append(ImportErrorItem(None, f"{where}/CdtDbtInd", f"{sign!r} is neither CRDT nor DBIT"))
    booked_on = _booked_on(entry, where, errors)
    if amount is None or booked_on is None or sign not in ("CRDT", "DBIT"):
        return
    if status not in (None, "BOOK") or (_text(entry, "RvslInd") or "").lower() == "true":
        statement.skipped += 1  # pending, informational or a reversal: not money received
        return
    if sign == "DBIT":
        statement.debits += 1
        return
    currency = amount_element.get("Ccy", "EUR") if amount_element is not None else "EUR"
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or ""
    details = [tx for block in _children(entry, "NtryDtls") for tx in _children(block, "TxDtls")]
    declared = _text(entry, "NtryDtls/Btch/NbOfTxs")
    base = natural_key("camt", account, entry_ref or _fallback(booked_on, amount, entry))
    if len(details) <= 1:
        batch = declared is not None and declared != "1" and not details
        statement.credits.append(_credit(details[0] if details else None, base, account, booked_on, amount, currency,
                                         entry_ref, where, batch))
        return
    parts = list(_parts(details, where, errors))
    if len(parts) < len(details):
        return
    total = sum(part_amount for _, part_amount, _ in parts)
    if total != amount:
        errors.append(ImportErrorItem(None, f"{where}/NtryDtls", f"the {len(parts)} transactions add up to "
                                                                 f"{total}, the entry says {amount}"))
        return
    for i, (tx, part_amount, credit_side) in enumerate(parts, start=1):
        if not credit_side:
            statement.debits += 1
            continue
        tx_ref = _text(tx, "Refs/AcctSvcrRef") or _text(tx, "Refs/EndToEndId") or f"tx{i}"
        statement.credits.append(_credit(tx, f"{base}:{i}:{tx_ref}"[:240], account, booked_on, part_amount, currency,
                                         f"{entry_ref}/{tx_ref}" if entry_ref else tx_ref,
                                         f"{where}/NtryDtls/TxDtls[{i}]", False))


def _parts(details: list[Element], where: str,
           errors: list[ImportErrorItem]) -> Iterator[tuple[Element, Decimal, bool]]:
    """Each detailed transaction of a batch with its amount (signed by its own indicator when it has one)."""
    for i, tx in enumerate(details, start=1):
        spot = f"{where}/NtryDtls/TxDtls[{i}]"
        raw = _text(tx, "Amt") or _text(tx, "AmtDtls/TxAmt/Amt")
        amount = amount_of(raw, f"{spot}/Amt", errors)
        if amount is not None:
            side = _text(tx, "CdtDbtInd") or "CRDT"
            yield tx, amount if side == "CRDT" else -amount, side == "CRDT"


def _credit(tx: Element | None, key: str, account: str, booked_on: date, amount: Decimal, currency: str, entry_ref: str,
            where: str, batch: bool) -> Credit:
    """One credit from an entry and (when the bank gave them) its transaction details."""
    parties = _find(tx, "RltdPties")
    name = _text(parties, "Dbtr/Nm") or _text(parties, "Dbtr/Pty/Nm")
    iban = _text(parties, "DbtrAcct/Id/IBAN")
    remittance = _find(tx, "RmtInf")
    texts = [line.text.strip() for line in _children(remittance, "Ustrd") if line.text and line.text.strip()]
    reference = issuer = None
    for structured in _children(remittance, "Strd"):
        if reference is None:
            reference = _text(structured, "CdtrRefInf/Ref")
            issuer = _text(structured, "CdtrRefInf/Tp/Issr")
        texts += [line.text.strip() for line in _children(structured, "AddtlRmtInf") if line.text]
    return Credit(key=key, account=account, booked_on=booked_on, amount=amount, currency=currency,
                  entry_ref=entry_ref[:128], where=where, counter_iban=counter_iban_of(iban),
                  counter_name=(name or None) and name[:200], reference=reference and reference[:64], issuer=issuer,
                  remittance=" ".join(texts)[:2000], batch=batch)


def _fallback(booked_on: date, amount: Decimal, entry: Element) -> str:
    """A key for an entry the bank gave no reference: its date, amount and text (same file, same key)."""
    texts = " ".join(element.text or "" for element in entry.iter())
    return f"{booked_on.isoformat()}:{amount}:{compact(texts)[:120]}"
