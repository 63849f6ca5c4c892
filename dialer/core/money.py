"""Money: exact Decimal amounts with two places (stored as whole cents by `storage.columns.Cents`)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
LIMIT = Decimal("999999999999.99")  # a trillion less a cent: far beyond any invoice, well inside 64-bit cents
# ASCII digits only: Decimal() also reads "٣٠٠", "３００.００", "3_00" and "3e2", none of which is an amount.
AMOUNT_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


class MoneyError(ValueError):
    """An amount that is not a valid sum of money."""


def to_money(value: Decimal | int | str) -> Decimal:
    """An exact amount with two decimals; floats are refused (they are not exact)."""
    if isinstance(value, float):
        raise MoneyError(f"{value!r}: amounts must be Decimal or text, never float")
    if isinstance(value, bool):
        raise MoneyError(f"{value!r} is not an amount")
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value.strip()):
        raise MoneyError(f"{value[:40]!r} is not an amount: write digits with a decimal point, e.g. 150.00")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise MoneyError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise MoneyError(f"{value!r} is not an amount")
    if abs(amount) > LIMIT:
        raise MoneyError(f"{value!r} is too large an amount (at most {LIMIT:,})")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise MoneyError(f"{value!r} has more than two decimals")
    return amount.quantize(CENT)


def money_text(value: Decimal | None) -> str | None:
    """An amount as the decimal string used in JSON ("1234.56")."""
    return None if value is None else str(to_money(value))
