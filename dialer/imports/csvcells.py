"""The values in CSV cells as accounting packages write them: text, amounts, dates, yes/no, codes, zones, e-mail."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TRUE_WORDS = frozenset({"1", "true", "yes", "ja", "j", "y", "waar", "vrai", "oui", "x"})
FALSE_WORDS = frozenset({"0", "false", "no", "nee", "n", "onwaar", "faux", "non"})

_PLAIN_AMOUNT = re.compile(r"-?\d{1,15}(?:[.,]\d{1,2})?", re.ASCII)
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:([.,' \u00a0\u202f\u2019])\d{3})(?:\1\d{3})*", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})", re.ASCII)
_DMY_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", re.ASCII)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)  # yyyymmdd, as ING's exports write it
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", re.ASCII)
DATE_FORMATS = "dd-mm-yyyy, dd/mm/yyyy or yyyy-mm-dd"


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
