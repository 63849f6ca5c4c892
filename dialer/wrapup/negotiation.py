"""The negotiation room and the checks a proposed payment agreement must pass (pure, time passed in)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from ..core.money import CENT, MoneyError, to_money

DEFAULT_PATH = Path("config/negotiation.toml")
HUNDRED = Decimal(100)
DECIMAL_TEXT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")

# Codes of the warnings an agent must confirm (the UI translates them; the data says why).
FIRST_PAYMENT_BELOW_MINIMUM = "first_payment_below_minimum"
TOO_MANY_INSTALMENTS = "too_many_instalments"
BEYOND_TERM = "beyond_term"
DISCOUNT_NOT_ALLOWED = "discount_not_allowed"
TOTAL_BELOW_OPEN = "total_below_open"
TOTAL_ABOVE_OPEN = "total_above_open"
BELOW_MIN_AMOUNT = "below_min_amount"
WARNINGS = (FIRST_PAYMENT_BELOW_MINIMUM, TOO_MANY_INSTALMENTS, BEYOND_TERM, DISCOUNT_NOT_ALLOWED, TOTAL_BELOW_OPEN,
            TOTAL_ABOVE_OPEN, BELOW_MIN_AMOUNT)


class NegotiationError(ValueError):
    """A proposal or room that makes no sense at all (not a warning: it cannot be saved)."""


@dataclass(frozen=True)
class NegotiationRoom:
    """How far an agent may go (handbook: at least 50 % first, a discount only for quick payment)."""

    min_first_payment_pct: Decimal = Decimal(50)
    max_instalments: int = 3  # payments in one agreement, the first one included
    max_term_days: int = 60  # the last payment at most this many days from today
    discount_pct: Decimal = Decimal(0)  # the most discount an agent may give; 0 = none
    discount_within_days: int = 0  # ... and only if everything is paid within this many days
    min_amount: Decimal = Decimal("25.00")  # less than this open is not worth a call ([queue] min_amount)

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.min_first_payment_pct <= HUNDRED:
            raise NegotiationError("min_first_payment_pct must be between 0 and 100")
        if not Decimal(0) <= self.discount_pct < HUNDRED:
            raise NegotiationError("discount_pct must be between 0 and 100")
        if self.max_instalments < 1 or self.max_term_days < 0 or self.discount_within_days < 0:
            raise NegotiationError("max_instalments must be at least 1; days must not be negative")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for the panel."""
        return {"min_first_payment_pct": str(self.min_first_payment_pct), "max_instalments": self.max_instalments,
                "max_term_days": self.max_term_days, "discount_pct": str(self.discount_pct),
                "discount_within_days": self.discount_within_days, "min_amount": str(self.min_amount)}


@dataclass(frozen=True)
class PlannedPayment:
    """One payment promised: an amount on a date."""

    amount: Decimal
    due_date: date


@dataclass(frozen=True)
class Proposal:
    """What the debtor offers: one or more payments, perhaps with a discount (in percent)."""

    payments: tuple[PlannedPayment, ...]
    discount_pct: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """The sum of all payments."""
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    @property
    def first(self) -> PlannedPayment:
        """The earliest payment."""
        return self.payments[0]

    @property
    def last_date(self) -> date:
        """When the last payment is due."""
        return self.payments[-1].due_date


@dataclass(frozen=True)
class Breach:
    """A breach of the negotiation room: the agent must confirm it knowingly."""

    code: str
    params: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"code": self.code, "params": dict(self.params)}


def make_proposal(payments: list[tuple[Decimal | str, date]], discount_pct: Decimal | str = "0",
                  *, today: date) -> Proposal:
    """A proposal from raw parts, ordered by date; NegotiationError if it cannot be an agreement."""
    if not payments:
        raise NegotiationError("an agreement needs at least one payment")
    try:
        planned = [PlannedPayment(to_money(amount), due) for amount, due in payments]
    except MoneyError as exc:
        raise NegotiationError(f"payment amount: {exc}") from None
    text = str(discount_pct or "0").strip()
    if not DECIMAL_TEXT.fullmatch(text):  # Decimal() alone reads "١٠", "1_0" and "1e1" too
        raise NegotiationError(f"discount_pct {text[:20]!r} is not a percentage: write digits, e.g. 2.5")
    discount = Decimal(text)
    if any(p.amount <= 0 for p in planned):
        raise NegotiationError("every payment must be more than 0")
    if any(p.due_date < today for p in planned):
        raise NegotiationError("a payment date lies in the past")
    if not discount.is_finite() or not Decimal(0) <= discount < HUNDRED:
        raise NegotiationError("the discount is a percentage from 0 to below 100")
    planned.sort(key=lambda p: p.due_date)
    return Proposal(tuple(planned), discount)


def percent_of(amount: Decimal, pct: Decimal) -> Decimal:
    """`pct` percent of `amount`, rounded half up to the cent."""
    return (amount * pct / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_due(open_total: Decimal, discount_pct: Decimal) -> Decimal:
    """What is owed after a discount."""
    return open_total - percent_of(open_total, discount_pct)


def check(proposal: Proposal, open_total: Decimal, today: date, room: NegotiationRoom) -> list[Breach]:
    """Every way the proposal leaves the negotiation room; empty when it fits."""
    warnings: list[Breach] = []
    if open_total < room.min_amount:
        warnings.append(Breach(BELOW_MIN_AMOUNT, {"open": str(open_total), "minimum": str(room.min_amount)}))
    minimum_first = percent_of(open_total, room.min_first_payment_pct)
    if proposal.first.amount < minimum_first:
        warnings.append(Breach(FIRST_PAYMENT_BELOW_MINIMUM, {
            "amount": str(proposal.first.amount), "minimum": str(minimum_first),
            "pct": _pct(room.min_first_payment_pct)}))
    if len(proposal.payments) > room.max_instalments:
        warnings.append(Breach(TOO_MANY_INSTALMENTS, {
            "count": str(len(proposal.payments)), "maximum": str(room.max_instalments)}))
    latest = today + timedelta(days=room.max_term_days)
    if proposal.last_date > latest:
        warnings.append(Breach(BEYOND_TERM, {"date": proposal.last_date.isoformat(), "latest": latest.isoformat(),
                                              "days": str(room.max_term_days)}))
    if proposal.discount_pct > 0:
        quick = today + timedelta(days=room.discount_within_days)
        if proposal.discount_pct > room.discount_pct or proposal.last_date > quick:
            warnings.append(Breach(DISCOUNT_NOT_ALLOWED, {
                "pct": _pct(proposal.discount_pct), "maximum": _pct(room.discount_pct),
                "days": str(room.discount_within_days), "latest": quick.isoformat()}))
    due = amount_due(open_total, proposal.discount_pct)
    if proposal.total < due:
        warnings.append(Breach(TOTAL_BELOW_OPEN, {"total": str(proposal.total), "due": str(due),
                                                   "open": str(open_total)}))
    elif proposal.total > due:
        warnings.append(Breach(TOTAL_ABOVE_OPEN, {"total": str(proposal.total), "due": str(due)}))
    return warnings


def _pct(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def room_from_mapping(data: dict[str, Any], *, min_amount: Decimal) -> NegotiationRoom:
    """A room from parsed TOML (unknown keys refused); `min_amount` comes from [queue]."""
    known = {"min_first_payment_pct", "max_instalments", "max_term_days", "discount_pct", "discount_within_days"}
    unknown = set(data) - known
    if unknown:
        raise NegotiationError(f"unknown key(s) in the negotiation room: {', '.join(sorted(unknown))}")
    try:
        return NegotiationRoom(
            min_first_payment_pct=Decimal(str(data.get("min_first_payment_pct", 50))),
            max_instalments=int(data.get("max_instalments", 3)),
            max_term_days=int(data.get("max_term_days", 60)),
            discount_pct=Decimal(str(data.get("discount_pct", 0))),
            discount_within_days=int(data.get("discount_within_days", 0)),
            min_amount=min_amount,
        )
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise NegotiationError(f"negotiation room: {exc}") from None


def load_room(path: str | Path = DEFAULT_PATH, *, min_amount: Decimal) -> NegotiationRoom:
    """The team's negotiation room from its TOML file ([room] table); defaults if the file is missing."""
    file = Path(path)
    if not file.is_file():
        return NegotiationRoom(min_amount=min_amount)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NegotiationError(f"{file}: not valid TOML: {exc}") from None
    return room_from_mapping(data.get("room", {}), min_amount=min_amount)
