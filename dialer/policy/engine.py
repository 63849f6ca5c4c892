"""The contact policy engine: may this debtor be phoned now, and if not, from when on?"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .sections import COUNTS, DAYS, CallerId, Frequency, PolicyPack, Recording, Window

__all__ = ["ANONYMITY_DISALLOWED", "CALLING_WINDOW", "COOLDOWN", "COUNTS", "DAYS", "FREQUENCY_CAP", "RULES",
           "CallerId", "Contact", "Decision", "Frequency", "PolicyError", "PolicyPack", "Recording", "Window",
           "combine", "decide", "earliest_allowed"]

CALLING_WINDOW = "calling_window"
FREQUENCY_CAP = "frequency_cap"
COOLDOWN = "cooldown"
RULES = (CALLING_WINDOW, FREQUENCY_CAP, COOLDOWN)
ANONYMITY_DISALLOWED = 433  # RFC 5079: the line refuses calls that withhold the caller's number

_HORIZON_DAYS = 2 * 366  # no open day this far ahead means the window never opens


class PolicyError(ValueError):
    """A policy pack or question that cannot be used; the message says why."""


@dataclass(frozen=True)
class Contact:
    """One past call to the debtor, as the ledger holds it."""

    at: datetime
    number: str = ""
    sip_code: int | None = None
    answered: bool = False
    conversation: bool = False
    withheld: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.at, "Contact.at")


@dataclass(frozen=True)
class Decision:
    """The engine's answer: allowed or not, the denying rule ids, and when a call would be allowed."""

    allowed: bool
    rules: tuple[str, ...]
    next_allowed: datetime | None  # None: the pack never allows a call
    withhold_allowed: bool


def decide(pack: PolicyPack, *, tz: ZoneInfo | str, ledger: Sequence[Contact], now: datetime,
           number: str | None = None) -> Decision:
    """Whether a call to the debtor may be placed at `now`, and the earliest compliant moment if not."""
    zone = _zone(tz)
    now = _require_aware(now, "now").astimezone(UTC)
    clears = _clearances(pack, zone, ledger, now)
    denied = tuple(rule for rule, when in clears.items() if when != now)
    if not denied:
        next_allowed: datetime | None = now
    elif None in clears.values():
        next_allowed = None
    else:
        next_allowed = _settle(pack, zone, ledger, max(w for w in clears.values() if w is not None))
    return Decision(allowed=not denied, rules=denied, next_allowed=next_allowed,
                    withhold_allowed=_withhold_allowed(pack, ledger, number))


def earliest_allowed(pack: PolicyPack, *, tz: ZoneInfo | str, ledger: Sequence[Contact],
                     not_before: datetime) -> datetime:
    """The earliest moment at or after `not_before` when every rule of the pack allows a call."""
    when = decide(pack, tz=tz, ledger=ledger, now=not_before).next_allowed
    if when is None:
        raise PolicyError(f"policy pack {pack.name!r} never allows a call: its calling window never opens")
    return when


def combine(packs: Iterable[PolicyPack]) -> PolicyPack:
    """One pack that is at least as strict as each of `packs` (for a debtor under several rule sets)."""
    unique: list[PolicyPack] = []
    for pack in packs:
        if pack not in unique:
            unique.append(pack)
    if not unique:
        raise ValueError("combine() needs at least one policy pack")
    if len(unique) == 1:
        return unique[0]
    windows = [p.window for p in unique]
    frequencies = [p.frequency for p in unique]
    # Caps with different spans: the smallest cap over the longest span implies both.
    capped = [f for f in frequencies if f.max_calls > 0]
    retentions = [p.recording.retention_days for p in unique if p.recording.retention_days > 0]
    effective = [p.effective for p in unique if p.effective is not None]
    return PolicyPack(
        name="+".join(p.name for p in unique),
        description="the stricter of " + ", ".join(p.name for p in unique),
        effective=max(effective, default=None),
        sources=tuple(dict.fromkeys(s for p in unique for s in p.sources)),
        window=Window(
            days=tuple(d for d in DAYS if all(d in w.days for w in windows)),
            start=max(w.start for w in windows),
            end=min(w.end for w in windows),
            holidays=tuple(dict.fromkeys(c for w in windows for c in w.holidays)),
            closed=tuple(dict.fromkeys(d for w in windows for d in w.closed)),
        ),
        frequency=Frequency(
            max_calls=min((f.max_calls for f in capped), default=0),
            per_days=max(f.per_days for f in capped or frequencies),
            cooldown_after_conversation_days=max(f.cooldown_after_conversation_days for f in frequencies),
            counts=COUNTS[min(COUNTS.index(f.counts) for f in capped or frequencies)],  # type: ignore[arg-type]
        ),
        caller_id=CallerId(withhold="allowed" if all(p.withhold_allowed for p in unique) else "forbidden"),
        recording=Recording(announce=any(p.recording.announce for p in unique),
                            retention_days=min(retentions, default=0)),
    )


def _clearances(pack: PolicyPack, zone: tzinfo, ledger: Sequence[Contact],
                t: datetime) -> dict[str, datetime | None]:
    """Per rule, the earliest moment ≥ t at which that rule alone allows a call (None: never)."""
    return {
        CALLING_WINDOW: _window_clears(pack.window, zone, t),
        FREQUENCY_CAP: _frequency_clears(pack.frequency, ledger, t),
        COOLDOWN: _cooldown_clears(pack.frequency, ledger, t),
    }


def _settle(pack: PolicyPack, zone: tzinfo, ledger: Sequence[Contact], t: datetime) -> datetime | None:
    """Move t forward until every rule allows at once."""
    # Each move either lands in the window or lets at least one contact stop counting,
    # so the loop settles within about two moves per contact.
    for _ in range(2 * len(ledger) + 8):
        clears = _clearances(pack, zone, ledger, t).values()
        if None in clears:
            return None
        later = max(w for w in clears if w is not None)
        if later == t:
            return t
        t = later
    raise PolicyError(f"policy pack {pack.name!r} did not settle on a moment after {t.isoformat()}")


def _window_clears(window: Window, zone: tzinfo, t: datetime) -> datetime | None:
    if not window.opens:
        return None
    first = t.astimezone(zone).date()
    for offset in range(_HORIZON_DAYS):
        day = first + timedelta(days=offset)
        if not window.open_on(day):
            continue
        # Local wall-clock times converted per day, so each day's offset (CET/CEST, EST/EDT) is its own.
        opens, closes = _instant(day, window.start, zone), _instant(day, window.end, zone)
        if opens < closes and t < closes:
            return max(t, opens)
    return None


def _frequency_clears(frequency: Frequency, ledger: Sequence[Contact], t: datetime) -> datetime:
    if frequency.max_calls == 0:
        return t
    span = timedelta(days=frequency.per_days)
    # Contacts dated after t (clock skew between processes) count as if just made.
    counted = sorted(c.at for c in ledger if _counts(c, frequency.counts) and c.at > t - span)
    excess = len(counted) - frequency.max_calls + 1
    return t if excess <= 0 else (counted[excess - 1] + span).astimezone(UTC)


def _cooldown_clears(frequency: Frequency, ledger: Sequence[Contact], t: datetime) -> datetime:
    span = timedelta(days=frequency.cooldown_after_conversation_days)
    if not span:
        return t
    ends = [(c.at + span).astimezone(UTC) for c in ledger if c.conversation and c.at + span > t]
    return max(ends, default=t)


def _counts(contact: Contact, what: str) -> bool:
    if what == "conversations":
        return contact.conversation
    if what == "connected":
        return contact.answered or contact.conversation
    return True


def _withhold_allowed(pack: PolicyPack, ledger: Sequence[Contact], number: str | None) -> bool:
    if not pack.withhold_allowed:
        return False
    # A line that once refused an anonymous call will refuse the next one too.
    return not any(c.sip_code == ANONYMITY_DISALLOWED and (number is None or c.number == number) for c in ledger)


def _instant(day: date, clock: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _zone(tz: ZoneInfo | str | tzinfo) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PolicyError(f"{tz!r} is not a time zone (e.g. 'Europe/Amsterdam')") from None


def _require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value
