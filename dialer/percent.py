"""Percentages: exact Decimal values with two places, stored as NUMERIC(5, 2)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import Dialect, Numeric
from sqlalchemy.types import TypeDecorator

HUNDREDTH = Decimal("0.01")


class Percent(TypeDecorator[Decimal]):
    """A percentage such as 2.50, read back as Decimal('2.50') on SQLite and PostgreSQL alike."""

    impl = Numeric
    cache_ok = True

    def __init__(self) -> None:
        # asdecimal=False: SQLite has no decimal type, and asking SQLAlchemy for Decimals there warns about
        # float rounding; five digits with two places survive a float exactly, so the conversion is done here.
        super().__init__(5, 2, asdecimal=False)

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        """Refuse more than two places rather than let the database round them away."""
        if value is None:
            return None
        try:
            pct = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(f"{value!r} is not a percentage") from None
        if not pct.is_finite() or pct != pct.quantize(HUNDREDTH):
            raise ValueError(f"{value!r}: a percentage has at most two decimals")
        return pct.quantize(HUNDREDTH)

    def process_result_value(self, value: float | Decimal | None, dialect: Dialect) -> Decimal | None:
        """The stored number as a Decimal with two places."""
        if value is None:
            return None
        return Decimal(repr(value) if isinstance(value, float) else value).quantize(HUNDREDTH)
