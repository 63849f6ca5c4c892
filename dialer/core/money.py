"""Money: exact Decimal amounts with two places (stored as whole cents by `storage.columns.Cents`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


class MoneyError(ValueError):
    """An amount that is not a valid sum of money."""


def to_money(value: Decimal | int | str) -> Decimal:
    """An exact amount with two decimals; floats are refused (they are not exact)."""
    if isinstance(value, float):
        raise MoneyError(f"{value!r}: amounts must be Decimal or text, never float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise MoneyError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise MoneyError(f"{value!r} is not an amount")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise MoneyError(f"{value!r} has more than two decimals")
    return amount.quantize(CENT)


def money_text(value: Decimal | None) -> str | None:
    """An amount as the decimal string used in JSON ("1234.56")."""
    return None if value is None else str(to_money(value))
