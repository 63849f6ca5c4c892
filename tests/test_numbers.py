"""Phone numbers in national and international forms become E.164."""

from __future__ import annotations

import pytest

from dialer.core.numbers import InvalidNumber, normalise


@pytest.mark.parametrize(("raw", "region", "e164"), [
    ("020-1234567", "NL", "+31201234567"),
    ("06 12345678", "NL", "+31612345678"),
    ("+31 (0)20 123 4567", "NL", "+31201234567"),
    ("0031201234567", "NL", "+31201234567"),
    ("02 512 34 56", "BE", "+3225123456"),
    ("+32 2 512 34 56", "NL", "+3225123456"),
    ("(212) 555-0123", "US", "+12125550123"),
])
def test_national_and_international_forms(raw: str, region: str, e164: str) -> None:
    assert normalise(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "12", "hello", "020-12345", "+999 1234567", "06 1234"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalise(raw, "NL")
