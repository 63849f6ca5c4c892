"""Bank and tax identifiers: IBANs, payment references, VAT and company numbers, checked and made compact.

The check digits are python-stdnum's (docs/decisions.md): IBAN (ISO 13616, mod 97), the Belgian structured
communication (OGM/VCS, mod 97), the RF creditor reference (ISO 11649) and EU VAT numbers per country.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum import iso11649
from stdnum.be import ogm_vcs
from stdnum.be import vat as be_vat
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

_OGM_SHAPE = re.compile(r"^\s*(?:\+\+\+|\*\*\*)?\s*(\d{3})\s*/?\s*(\d{4})\s*/?\s*(\d{5})\s*(?:\+\+\+|\*\*\*)?\s*$")
_OGM_IN_TEXT = re.compile(r"(?:\+\+\+|\*\*\*)\s*(\d{3})\s*/\s*(\d{4})\s*/\s*(\d{5})\s*(?:\+\+\+|\*\*\*)")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


class InvalidIdentifier(ValueError):
    """An IBAN, reference, VAT or company number whose form or check digits are wrong; the message says which."""


def compact(text: str) -> str:
    """Letters and digits only, upper case: how references are stored and compared ('RF18 5390…' → 'RF185390…')."""
    return _NOT_ALNUM.sub("", text or "").upper()


def parse_iban(text: str) -> str:
    """An IBAN in compact form ('nl91 abna 0417 1643 00' → 'NL91ABNA0417164300'), or InvalidIdentifier."""
    try:
        return _iban.validate(text)
    except ValidationError as exc:
        raise InvalidIdentifier(f"{text!r} is not a valid IBAN ({_why(exc)})") from None


def ogm(text: str) -> str | None:
    """The 12 digits of a Belgian structured communication written as one ('+++010/8068/17183+++'), else None.

    The check digits are not judged here: `is_valid_ogm` does that, so a mistyped one is told apart from text.
    """
    match = _OGM_SHAPE.match(text or "")
    return "".join(match.groups()) if match else None


def ogm_in(text: str) -> str | None:
    """The first structured communication in +++…+++ or ***…*** form inside a free text, else None."""
    match = _OGM_IN_TEXT.search(text or "")
    return "".join(match.groups()) if match else None


def is_valid_ogm(digits: str) -> bool:
    """True when the last two of the 12 digits are the first ten mod 97 (97 for 0)."""
    return ogm_vcs.is_valid(digits)


def format_ogm(digits: str) -> str:
    """'010806817183' → '+++010/8068/17183+++'."""
    return f"+++{ogm_vcs.format(digits)}+++"


def parse_payment_reference(text: str) -> str:
    """A reference an invoice asks to be paid with, compact; a Belgian or RF one must have right check digits.

    Twelve bare digits are taken as they are (any creditor's reference may be twelve digits); written as a
    structured communication (+++…+++, ***…*** or with slashes) they must be a valid one.
    """
    digits = ogm(text)
    if digits is not None and compact(text) != text.strip():
        if not is_valid_ogm(digits):
            raise InvalidIdentifier(f"{text!r}: the check digits of the structured communication are wrong")
        return digits
    value = compact(text)
    if not value:
        raise InvalidIdentifier(f"{text!r} is not a payment reference")
    if value.startswith("RF") and value[2:4].isdigit():
        try:
            return iso11649.validate(value)
        except ValidationError as exc:
            raise InvalidIdentifier(f"{text!r} is not a valid RF creditor reference ({_why(exc)})") from None
    if len(value) > 64:
        raise InvalidIdentifier(f"{text!r}: a payment reference has at most 64 letters and digits")
    return value


def parse_vat(text: str) -> str:
    """An EU VAT number with its country prefix, compact and checked ('BE 0403.170.701' → 'BE0403170701')."""
    value = compact(text)
    try:
        return eu_vat.validate(value)
    except ValidationError as exc:
        raise InvalidIdentifier(f"{text!r} is not a valid VAT number ({_why(exc)}; write it with its country "
                                f"prefix, e.g. NL…B01 or BE0…)") from None


def parse_company_number(text: str, country: str | None = None) -> str:
    """A KvK number (NL, 8 digits) or a KBO/BCE number (BE, 10 digits, mod 97), compact; no country: by its shape."""
    value = compact(text)
    if country is None:
        country = "NL" if len(value) == 8 else "BE" if len(value.removeprefix("BE")) in (9, 10) else ""
    if country.upper() == "BE":
        value = value.removeprefix("BE")
        if len(value) == 9:
            value = "0" + value
        if not be_vat.is_valid(value):
            raise InvalidIdentifier(f"{text!r} is not a valid KBO/BCE number (10 digits, the last two mod 97)")
        return value
    if country.upper() == "NL":
        if not (len(value) == 8 and value.isdigit()):
            raise InvalidIdentifier(f"{text!r} is not a KvK number (8 digits)")
        return value
    if not value or len(value) > 32:
        raise InvalidIdentifier(f"{text!r} is not a company number")
    return value


def _why(exc: ValidationError) -> str:
    """python-stdnum's reason in words of our own."""
    return {"InvalidChecksum": "wrong check digits", "InvalidLength": "wrong length",
            "InvalidFormat": "wrong form", "InvalidComponent": "unknown country or bank part"}.get(
        type(exc).__name__, str(exc))
