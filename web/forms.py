"""Parsing request bodies into the domain's inputs (shapes only; the rules live in `dialer`)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from dialer.wrapup.service import AgreementInput, CallbackInput, WrapUp


class FormError(ValueError):
    """A body that does not have the expected shape; the message names the field."""


MAX_ID = 2**63 - 1  # the database's integer ids are 64 bits
MAX_PAYMENTS = 60  # instalments in one agreement: five years monthly, far beyond any negotiation room
YEARS = range(2000, 2200)  # dates an agreement or a call-back can sensibly carry
SINGLE_LINE = re.compile(r"[^\x00-\x1f\x7f]*")


def _text(data: dict[str, Any], key: str, *, required: bool = False, limit: int = 10_000) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise FormError(f"{key} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FormError(f"{key} must be text")
    text = str(value)[:limit]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") from JSON: no database can store it
        raise FormError(f"{key} holds a character that is not text (a lone surrogate)") from None
    return text


def _ref(data: dict[str, Any], key: str) -> str:
    """A required reference such as debtor_ref: one line of text."""
    text = _text(data, key, required=True, limit=64) or ""
    if not SINGLE_LINE.fullmatch(text):
        raise FormError(f"{key} must be one line of text, without control characters")
    return text


def _int(data: dict[str, Any], key: str) -> int | None:
    """An id: a JSON integer (or its digits as text), 1 up to 64 bits."""
    value = data.get(key)
    if value is None or value == "":
        return None
    digits = value.strip() if isinstance(value, str) else None
    if isinstance(value, bool) or not (isinstance(value, int) or (digits and digits.isascii() and digits.isdigit())):
        raise FormError(f"{key} must be a whole number, such as 42")
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise FormError(f"{key} must be a whole number from 1 to {MAX_ID}")
    return number


def _date(value: Any, key: str) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise FormError(f"{key} must be a date (YYYY-MM-DD)") from None
    if day.year not in YEARS:
        raise FormError(f"{key} {day.isoformat()} is not a date an agreement can have")
    return day


def _list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormError(f"{key} must be a list of texts")
    return value


def agreement(data: Any) -> AgreementInput | None:
    """The agreement part: {"payments": [{"amount": "100.00", "due_date": "2026-12-01"}], "discount_pct": "2", ...}."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise FormError("agreement must be an object")
    payments = data.get("payments")
    if not isinstance(payments, list) or not payments:
        raise FormError("agreement.payments must list at least one payment")
    if len(payments) > MAX_PAYMENTS:
        raise FormError(f"agreement.payments: at most {MAX_PAYMENTS} payments in one agreement")
    parsed = []
    for i, p in enumerate(payments):
        if not isinstance(p, dict) or isinstance(p.get("amount"), bool) or not isinstance(p.get("amount"), (str, int)):
            raise FormError(f"agreement.payments[{i}] needs an amount (text such as \"150.00\") and a due_date")
        parsed.append((str(p["amount"]).strip().replace(",", "."), _date(p.get("due_date"), f"payments[{i}].due_date")))
    return AgreementInput(payments=parsed, discount_pct=str(data.get("discount_pct") or "0").replace(",", "."),
                          invoices=_list(data, "invoices"),
                          conditional_on_complaint=_int(data, "conditional_on_complaint"))


def callback(data: Any) -> CallbackInput | None:
    """The call-back part: {"at": "2026-12-01T16:30", "note": "..."} in the team's local time."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise FormError("callback must be an object")
    try:
        at = datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        raise FormError("callback.at must be a local date and time (YYYY-MM-DDTHH:MM)") from None
    if at.year not in YEARS:
        raise FormError(f"callback.at {at.date().isoformat()} is not a day to call back on")
    if at.tzinfo is not None:
        raise FormError("callback.at is the team's local wall-clock time, without an offset")
    return CallbackInput(local_time=at, note=_text(data, "note"))


def wrap_up(data: Any) -> WrapUp:
    """The whole wrap-up body."""
    if not isinstance(data, dict):
        raise FormError("expected a JSON object")
    return WrapUp(
        debtor_ref=_ref(data, "debtor_ref"), outcome=_text(data, "outcome", required=True) or "",
        attempt_id=_int(data, "attempt_id"), contact=_text(data, "contact"), agreement=agreement(data.get("agreement")),
        callback=callback(data.get("callback")), complaint=_text(data, "complaint"),
        complaint_invoices=_list(data, "complaint_invoices"), escalation=_text(data, "escalation"),
        tasks=_list(data, "tasks"), note=_text(data, "note"), confirm=bool(data.get("confirm")))


def note(data: Any) -> tuple[str, str, int | None]:
    """A note body: debtor_ref, text, attempt_id."""
    if not isinstance(data, dict):
        raise FormError("expected a JSON object")
    text = (_text(data, "text", required=True) or "").strip()
    if not text:
        raise FormError("text is required")
    return _ref(data, "debtor_ref"), text, _int(data, "attempt_id")
