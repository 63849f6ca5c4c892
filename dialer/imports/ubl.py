"""Reading Peppol BIS Billing 3.0 / UBL 2.1 invoices and credit notes into plain records, every problem named."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element

from stdnum.eu.vat import MEMBER_STATES

from ..core.identifiers import (
    InvalidIdentifier,
    compact,
    parse_company_number,
    parse_iban,
    parse_payment_reference,
    parse_vat,
)
from .columns import Progress
from .errors import ImportErrorItem, ImportFailed
from .ublxml import NAMESPACES, ROOTS, ElementError, Reader, parse

STATUTORY_TERM = timedelta(days=30)  # BE law of 2 August 2002 art. 4, NL BW 6:119a: 30 days without terms

# Peppol's ISO 6523 schemes (EAS codes) of the registers Belblok checks: scheme → (country, register).
COMPANY_SCHEMES = {"0208": ("BE", "KBO"), "0106": ("NL", "KvK")}
VAT_SCHEMES = {"9925": "BE", "9944": "NL"}
REGISTERS = {country: (scheme, register) for scheme, (country, register) in COMPANY_SCHEMES.items()}
BUYER = "cac:AccountingCustomerParty/cac:Party"
EU_VAT_PREFIXES = {*MEMBER_STATES, "el"} - {"gr"}

_TERM_DAYS = re.compile(r"(\d{1,3})\s*(?:days|dagen|jours|tage|d\b)", re.ASCII | re.IGNORECASE)
__all__ = ["Buyer", "Document", "ElementError", "read_document", "read_documents"]


@dataclass(frozen=True)
class Buyer:
    """The buyer party (cac:AccountingCustomerParty): who owes, and the numbers its debtor is found by."""

    name: str
    vat_number: str | None  # compact, with country prefix; an EU one's check digits verified
    company_number: str | None  # KBO/BCE (BE) or KvK (NL), compact and checked
    country: str  # ISO 3166 alpha-2
    identifier: str | None  # cac:PartyIdentification/cbc:ID: often the seller's customer number
    iban: str | None  # the account a direct debit is taken from (cac:PaymentMandate), checked

    @property
    def key(self) -> str:
        """A stable reference for a debtor made from this buyer: its VAT number, else company number, else ID."""
        if self.vat_number:
            return self.vat_number
        if self.company_number:
            return f"{REGISTERS.get(self.country, ('', self.country))[1]} {self.company_number}"
        return self.identifier or ""


@dataclass(frozen=True)
class Document:
    """One invoice or credit note as Belblok keeps it: who owes, how much, by when, and how to pay it."""

    file: str
    kind: str  # "invoice" or "credit_note"
    number: str
    issue_date: date
    due_date: date  # a credit note's is its issue date
    currency: str
    amount: Decimal  # cbc:PayableAmount: what the buyer is asked to pay (or, for a credit note, is credited)
    total: Decimal  # cbc:TaxInclusiveAmount: the total with VAT, before prepaid amounts
    buyer: Buyer
    buyer_reference: str | None
    payment_reference: str | None
    invoice_number: str | None  # a credit note's cac:BillingReference: the invoice it lowers

    @property
    def description(self) -> str | None:
        """What the collector reads on the dossier: the buyer's own reference, and what was prepaid."""
        parts = [f"buyer reference {self.buyer_reference}" if self.buyer_reference else "",
                 f"prepaid {self.total - self.amount:.2f} of {self.total:.2f}" if self.total > self.amount else ""]
        return "; ".join(p for p in parts if p) or None


def read_document(file: str, data: bytes, *, region: str = "NL") -> Document:
    """One e-invoice file as a Document, or ImportFailed listing every problem (`region`: default country)."""
    root = parse(file, data)
    reader, kind = Reader(file, root), ROOTS[root.tag]
    number = reader.text("cbc:ID", required=True, limit=64)
    issued = reader.date("cbc:IssueDate", required=True)
    currency = reader.text("cbc:DocumentCurrencyCode", required=True, limit=3)
    if currency and not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        reader.fail("cbc:DocumentCurrencyCode", f"{currency!r} is not a currency code such as 'EUR'")
    amount = reader.amount("cac:LegalMonetaryTotal/cbc:PayableAmount", currency, required=True)
    total = reader.amount("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", currency)
    buyer = read_buyer(reader, region)
    reference = None
    if kind == "invoice":
        reference = payment_reference(reader)
    credited = billing_reference(reader) if kind == "credit_note" else None
    due = due_date(reader, issued) if kind == "invoice" else issued
    buyer_reference = reader.text("cbc:BuyerReference", limit=100)
    if reader.errors:
        raise ImportFailed(reader.errors)
    assert number and issued and currency and amount is not None and buyer and due  # each None was noted
    return Document(file, kind, number, issued, due, currency, amount, amount if total is None else total, buyer,
                    buyer_reference, reference, credited)


def payment_reference(reader: Reader) -> str | None:
    """The first cac:PaymentMeans/cbc:PaymentID, compact, an OGM's or RF's check digits verified."""
    for means in reader.root.findall("cac:PaymentMeans", NAMESPACES):
        value = reader.text("cbc:PaymentID", within=means, prefix="cac:PaymentMeans", limit=140)
        if value is not None:
            try:
                return parse_payment_reference(value)
            except InvalidIdentifier as exc:
                reader.fail("cac:PaymentMeans/cbc:PaymentID", str(exc))
                return None
    return None


def billing_reference(reader: Reader) -> str | None:
    """The number of the one invoice a credit note credits (Belblok lowers exactly one invoice per credit note)."""
    path = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
    numbers = [(e.text or "").strip() for e in reader.root.findall(path, NAMESPACES) if (e.text or "").strip()]
    if not numbers:
        reader.fail(path, "missing: a credit note must name the invoice it credits")
        return None
    if len(set(numbers)) > 1:
        reader.fail(path, f"the credit note names {len(set(numbers))} invoices ({', '.join(numbers)}); Belblok "
                          f"lowers one: ask for one credit note per invoice")
        return None
    if len(numbers[0]) > 64:
        reader.fail(path, f"{numbers[0][:40]!r}… is longer than 64 characters")
        return None
    return numbers[0]


def due_date(reader: Reader, issued: date | None) -> date | None:
    """cbc:DueDate, else a payment due date, else 'N days' in the payment terms, else the statutory 30 days."""
    for path in ("cbc:DueDate", "cac:PaymentMeans/cbc:PaymentDueDate", "cac:PaymentTerms/cbc:PaymentDueDate"):
        if reader.root.find(path, NAMESPACES) is not None:
            return reader.date(path)
    if issued is None:
        return None
    terms = " ".join((e.text or "") for e in reader.root.findall("cac:PaymentTerms/cbc:Note", NAMESPACES))
    days = {int(n) for n in _TERM_DAYS.findall(terms)}
    return issued + (timedelta(days=days.pop()) if len(days) == 1 else STATUTORY_TERM)


def read_buyer(reader: Reader, region: str) -> Buyer | None:
    """The buyer party: its name, country and every number it is known by, each checked."""
    party = reader.root.find(BUYER, NAMESPACES)
    if party is None:
        reader.fail(BUYER, "missing (required): the buyer is the debtor")
        return None
    known = len(reader.errors)
    name = (reader.text("cac:PartyLegalEntity/cbc:RegistrationName", within=party, prefix=BUYER)
            or reader.text("cac:PartyName/cbc:Name", within=party, prefix=BUYER))
    if name is None:
        reader.fail(f"{BUYER}/cac:PartyLegalEntity/cbc:RegistrationName", "missing: the buyer's name is required")
    country = reader.text("cac:PostalAddress/cac:Country/cbc:IdentificationCode", within=party, prefix=BUYER,
                          limit=2)
    if country and not (len(country) == 2 and country.isalpha()):
        reader.fail(f"{BUYER}/cac:PostalAddress/cac:Country/cbc:IdentificationCode",
                    f"{country!r} is not a country code such as 'BE' or 'NL'")
        country = None
    vat = _vat(reader, party)
    company = _company_number(reader, party, country or (vat or region)[:2])
    endpoint = party.find("cbc:EndpointID", NAMESPACES)
    if endpoint is not None and (endpoint.text or "").strip():
        value, scheme = endpoint.text.strip(), endpoint.get("schemeID", "")
        if scheme in VAT_SCHEMES and vat is None:
            vat = _checked(reader, "cbc:EndpointID", parse_vat,
                           value if value[:2].isalpha() else VAT_SCHEMES[scheme] + value)
        elif scheme in COMPANY_SCHEMES and company is None:
            company = _checked(reader, "cbc:EndpointID", parse_company_number, value, COMPANY_SCHEMES[scheme][0])
    identifier = reader.text("cac:PartyIdentification/cbc:ID", within=party, prefix=BUYER, limit=64)
    if not (vat or company or identifier) and len(reader.errors) == known:
        reader.fail(BUYER, "the buyer has no VAT number, company number or identifier to find its debtor by")
    mandate = "cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"
    iban = reader.text(mandate, limit=64)
    if iban is not None:
        iban = _checked(reader, mandate, parse_iban, iban, prefix="")
    country = (country or (vat[:2] if vat else region)).upper()
    country = {"EL": "GR"}.get(country, country)  # Greek VAT numbers start EL, the country code is GR
    if name is None:
        return None
    return Buyer(name, vat, company, country, identifier, iban)


def _vat(reader: Reader, party: Element) -> str | None:
    """The buyer's VAT number (cac:PartyTaxScheme whose scheme is VAT); outside the EU kept as written."""
    for scheme in party.findall("cac:PartyTaxScheme", NAMESPACES):
        kind = (scheme.findtext("cac:TaxScheme/cbc:ID", "VAT", NAMESPACES) or "VAT").strip().upper()
        value = reader.text("cbc:CompanyID", within=scheme, prefix=f"{BUYER}/cac:PartyTaxScheme", limit=32)
        if kind == "VAT" and value:
            if compact(value)[:2].lower() not in EU_VAT_PREFIXES:
                return compact(value)
            return _checked(reader, "cac:PartyTaxScheme/cbc:CompanyID", parse_vat, value)
    return None


def _company_number(reader: Reader, party: Element, country: str) -> str | None:
    """The KBO/BCE or KvK number in cac:PartyLegalEntity/cbc:CompanyID (scheme 0208, 0106, or none in BE/NL)."""
    found = party.find("cac:PartyLegalEntity/cbc:CompanyID", NAMESPACES)
    if found is None or not (found.text or "").strip():
        return None
    scheme = found.get("schemeID")
    if scheme in COMPANY_SCHEMES:
        country = COMPANY_SCHEMES[scheme][0]
    elif scheme is not None or country.upper() not in REGISTERS:
        return None  # another register (a GLN, a Swedish number…): nothing Belblok can check or match on
    return _checked(reader, "cac:PartyLegalEntity/cbc:CompanyID", parse_company_number, found.text, country.upper())


def _checked(reader: Reader, path: str, parse_value: Callable[..., str], *args: str, prefix: str = BUYER) -> str | None:
    """An identifier parsed by `parse_value`, or None with the reason noted at `path`."""
    try:
        return parse_value(*args)
    except InvalidIdentifier as exc:
        reader.fail(f"{prefix}/{path}" if prefix else path, str(exc))
        return None


def read_documents(files: list[tuple[str, bytes]], *, region: str = "NL",
                   progress: Progress | None = None) -> list[Document]:
    """Every file read (name, bytes), or ImportFailed with the problems of all of them."""
    documents: list[Document] = []
    errors: list[ImportErrorItem] = []
    for done, (name, data) in enumerate(files, start=1):
        try:
            documents.append(read_document(name, data, region=region))
        except ImportFailed as exc:
            errors += exc.errors
        if progress:
            progress("reading e-invoices", done, len(files))
    if errors:
        raise ImportFailed(errors)
    return documents

