"""The XML side of e-invoices: parsing a file safely, and reading its elements by path with every problem named.

XML is parsed by defusedxml (docs/import.md): a DTD or an entity declaration refuses the file before anything
is expanded, so a "billion laughs" file costs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .errors import ImportErrorItem, ImportFailed

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NAMESPACES = {"cbc": CBC, "cac": CAC}
ROOTS = {"{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "invoice",
         "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "credit_note"}
# Access points hand documents over wrapped in a Standard Business Document Header: the invoice is inside.
SBDH = "{http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader}StandardBusinessDocument"
MAX_BYTES = 64 * 1024 * 1024  # embedded PDFs make real invoices large; beyond this it is not an invoice
CENT = Decimal("0.01")

_AMOUNT = re.compile(r"-?\d{1,15}(?:\.\d+)?", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class ElementError(ImportErrorItem):
    """A problem in one e-invoice: the file, the line (XML syntax only), the element path (`column`) and why."""

    file: str = ""

    def __str__(self) -> str:
        place = ", ".join(part for part in (self.row and f"line {self.row}", self.column) if part)
        return ": ".join(part for part in (self.file, place, self.message) if part)


class Reader:
    """One document's elements read by path; each problem is noted with the path, and reading goes on."""

    def __init__(self, file: str, root: Element) -> None:
        self.file, self.root, self.errors = file, root, []

    def fail(self, path: str, message: str) -> None:
        """Note a problem at `path`."""
        self.errors.append(ElementError(None, path, message, self.file))

    def text(self, path: str, *, required: bool = False, limit: int = 200, within: Element | None = None,
             prefix: str = "") -> str | None:
        """The stripped text of the first element at `path` (under `within`, shown after `prefix`), or None."""
        found = (self.root if within is None else within).find(path, NAMESPACES)
        value = (found.text or "").strip() if found is not None else ""
        shown = f"{prefix}/{path}" if prefix else path
        if not value:
            if required:
                self.fail(shown, "missing (required)" if found is None else "empty (a value is required)")
            return None
        if len(value) > limit:
            self.fail(shown, f"{value[:40]!r}… is longer than {limit} characters")
            return None
        return value

    def date(self, path: str, *, required: bool = False) -> date | None:
        """An xsd:date (yyyy-mm-dd) at `path`."""
        value = self.text(path, required=required)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.fail(path, f"{value!r} is not a date (yyyy-mm-dd)")
            return None

    def amount(self, path: str, currency: str | None, *, required: bool = False) -> Decimal | None:
        """A non-negative amount in cents at `path`, in the document's currency."""
        value = self.text(path, required=required)
        if value is None:
            return None
        if not _AMOUNT.fullmatch(value) or Decimal(value) != Decimal(value).quantize(CENT):
            self.fail(path, f"{value!r} is not an amount" + (" (more than two decimals)"
                                                             if _AMOUNT.fullmatch(value) else ""))
            return None
        unit = self.root.find(path, NAMESPACES).get("currencyID")  # type: ignore[union-attr]
        if currency and unit and unit != currency:
            self.fail(path, f"currencyID {unit!r} differs from the document's currency {currency!r}")
        if Decimal(value) < 0:
            invoice = ROOTS[self.root.tag] == "invoice"
            self.fail(path, f"{value!r} is below zero" + ("; a negative invoice cannot be collected: send a credit "
                                                          "note for the invoice it corrects" if invoice else ""))
            return None
        return Decimal(value).quantize(CENT) + 0  # + 0: no "-0.00"


def parse(file: str, data: bytes) -> Element:
    """The UBL root element of a file (inside an SBDH envelope if there is one), or ImportFailed."""
    def refuse(message: str, line: int | None = None, column: str | None = None) -> ImportFailed:
        return ImportFailed([ElementError(line, column, message, file)])

    if len(data) > MAX_BYTES:
        raise refuse(f"{len(data):,} bytes: larger than {MAX_BYTES:,} bytes, not an e-invoice")
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise refuse("the file declares a DTD or entities; e-invoices never do, so it is refused unread "
                     "(entity expansion is a known attack)") from None
    except ParseError as exc:
        line, column = exc.position  # expat counts columns from 0, editors from 1
        raise refuse(f"not well-formed XML ({str(exc).split(':')[0]})", line, f"column {column + 1}") from None
    if root.tag == SBDH:
        root = next((child for child in root if child.tag in ROOTS), root)
    if root.tag not in ROOTS:
        raise refuse(f"not a UBL invoice or credit note: the root element is {root.tag}")
    return root
