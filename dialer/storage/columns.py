"""Column types: aware UTC datetimes, money as whole cents, percentages as NUMERIC(5, 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator

from ..core.money import CENT, to_money

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


def require_aware(value: datetime) -> datetime:
    """Return value unchanged, or raise ValueError if it has no UTC offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: pass a tz-aware time")
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and always read back tz-aware in UTC."""

    # Naive UTC in a plain TIMESTAMP behaves the same on SQLite (which has no
    # time zones) and PostgreSQL, so queries and comparisons agree.
    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC; refuse a naive one."""
        if value is None:
            return None
        return require_aware(value).astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark a stored naive UTC datetime as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Cents(TypeDecorator[Decimal]):
    """A Decimal amount stored as an integer number of cents (exact on SQLite and PostgreSQL)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        """Decimal → cents."""
        if value is None:
            return None
        return int(to_money(value) * 100)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        """Cents → Decimal with two places."""
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)
