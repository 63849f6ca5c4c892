"""Translations: gettext catalogs (.po in web/translations) loaded at start, the language per request."""

from __future__ import annotations

import contextvars
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import (
    format_date,
    format_datetime,
    format_time,
    get_datetime_format,
    get_time_format,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations
from markupsafe import escape

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("nl", "en")
LOCALES = {"nl": "nl_NL", "en": "en_GB"}

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("current_language", default="en")


@lru_cache(maxsize=None)
def catalog(language: str) -> NullTranslations:
    """The compiled catalog for a language, read from its .po file (no compile step needed)."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        messages = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled)


def gettext(message: str) -> str:
    """Translate into the request's language."""
    return catalog(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count."""
    return catalog(current_language.get()).ngettext(singular, plural, n)


_ = gettext


@lru_cache(maxsize=None)
def known_messages() -> frozenset[str]:
    """Every message id of the catalogs (translated or not): the texts written in the code and templates."""
    ids: set[str] = set()
    for language in LANGUAGES:
        path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        if path.is_file():
            with path.open("rb") as po:
                ids.update(m.id if isinstance(m.id, str) else m.id[0] for m in read_po(po, locale=language) if m.id)
    return frozenset(ids)


def page_gettext(message: str) -> str:
    """gettext for the templates, which mark its result safe: a text not in the catalogs is escaped.

    `{{ _(contact.role) }}` translates the known roles; an imported role such as `<img onerror=…>` is data, not a
    message, and must reach the page as text.
    """
    if message in known_messages():
        return gettext(message)
    return escape(message).replace("%", "%%")  # Jinja formats the result: a % in data stays a %


def choose(user_language: str | None, cookie: str | None, team_default: str) -> str:
    """The UI language: the user's own, else the switch's cookie, else the team's (nl for NL and BE)."""
    for candidate in (user_language, cookie, team_default):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return "en"


def locale() -> str:
    """The Babel locale of the request's language."""
    return LOCALES.get(current_language.get(), "en_GB")


_PROBE = Decimal("1234567.89")


@lru_cache(maxsize=64)
def _currency_shape(currency: str, where: str) -> tuple[tuple[str, str], tuple[str, str], str, str]:
    """How Babel writes amounts in this currency and locale: (prefix, suffix) for + and -, group and decimal marks."""
    shapes = []
    for probe in (_PROBE, -_PROBE):
        text = format_currency(probe, currency, locale=where)
        start = text.index("1")
        end = text.rindex("9") + 1
        shapes.append((text[:start], text[end:]))
    digits = format_currency(_PROBE, currency, locale=where)
    digits = digits[digits.index("1"):digits.rindex("9") + 1]  # e.g. 1.234.567,89
    return shapes[0], shapes[1], digits[1], digits[-3]


def money(value: str | Decimal | None, currency: str | None = "EUR", places: int = 2) -> str:
    """An amount in the request's locale (€ 1.234,56 or €1,234.56), shaped as Babel shapes it; `places` 0 for axes."""
    if value is None or value == "":
        return "–"
    amount = Decimal(str(value))
    positive, negative, group, decimal = _currency_shape(currency or "EUR", locale())
    plain = f"{abs(amount):,.{places}f}".replace(",", "\0").replace(".", decimal).replace("\0", group)
    prefix, suffix = negative if amount < 0 else positive
    return f"{prefix}{plain}{suffix}"


def number(value: int | Decimal) -> str:
    """A number in the request's locale."""
    return format_decimal(value, locale=locale())


def percent(fraction: float, places: int = 1) -> str:
    """A fraction as a percentage in the request's locale (0.6667 → 66,7 % or 66.7 %)."""
    return format_percent(fraction, format="#,##0" + ("." + "0" * places if places else "") + " %", locale=locale())


@lru_cache(maxsize=8192)
def _day(value: str | date, form: str, where: str) -> str:
    parsed = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(parsed, format=form, locale=where)


def day(value: str | date | None, form: str = "medium") -> str:
    """A date (ISO text or date) in the request's locale."""
    if not value:
        return "–"
    return _day(value, form, locale())


@lru_cache(maxsize=16)
def _moment_shape(where: str) -> str | None:
    """Babel's short date-and-time pattern ("{1}, {0}") when its time part needs only the hour and minute."""
    unquoted = "".join(get_time_format("short", locale=where).pattern.split("'")[0::2])
    if not set(filter(str.isalpha, unquoted)) <= set("HhKkma"):
        return None
    return get_datetime_format("short", locale=where).replace("'", "")


@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, where: str) -> str:
    return format_time(time(hour, minute), "short", locale=where)


def moment(value: str | datetime | None, zone: str | None = None) -> str:
    """A date and time in the request's locale, in `zone` (the team's) if given."""
    if not value:
        return "–"
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    where = locale()
    shape = _moment_shape(where)
    if shape is None:
        return format_datetime(parsed, format="short", tzinfo=ZoneInfo(zone) if zone else None, locale=where)
    # Babel's format_datetime(short) is this pattern filled with format_time and format_date, done per field
    # from caches: Babel parses the patterns again on every call, a tenth of the agent screen's rendering.
    local = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)  # Babel reads naive as UTC
    if zone:
        local = local.astimezone(ZoneInfo(zone))
    clock, calendar_day = _clock(local.hour, local.minute, where), _day(local.date(), "short", where)
    return shape.replace("{0}", clock).replace("{1}", calendar_day)
