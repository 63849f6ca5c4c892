"""The wall clock, in UTC; the domain takes time as an argument instead."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as a tz-aware UTC datetime."""
    return datetime.now(UTC)
