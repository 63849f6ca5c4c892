"""Phone numbers: whatever a person typed, normalised to E.164 with `phonenumbers`."""

from __future__ import annotations

import phonenumbers


class InvalidNumber(ValueError):
    """A phone number that cannot be dialled; the message says why."""


def normalise(raw: str, region: str) -> str:
    """Return `raw` in E.164 form ('020-1234567', region NL → '+31201234567')."""
    text = (raw or "").strip()
    if not text:
        raise InvalidNumber("no phone number given")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{text!r} is not a phone number: {exc._msg}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{text!r} is not a valid phone number (read with default region {region})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
