"""The negotiation room: every way a proposed agreement can leave it (pure, no I/O)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dialer.wrapup.negotiation import (
    BELOW_MIN_AMOUNT,
    BEYOND_TERM,
    DISCOUNT_NOT_ALLOWED,
    FIRST_PAYMENT_BELOW_MINIMUM,
    TOO_MANY_INSTALMENTS,
    TOTAL_ABOVE_OPEN,
    TOTAL_BELOW_OPEN,
    NegotiationError,
    NegotiationRoom,
    amount_due,
    check,
    load_room,
    make_proposal,
)

TODAY = date(2026, 11, 23)
ROOM = NegotiationRoom(min_first_payment_pct=Decimal(50), max_instalments=3, max_term_days=60,
                       discount_pct=Decimal(2), discount_within_days=5, min_amount=Decimal("25.00"))
OPEN = Decimal("1000.00")


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def codes(payments: list[tuple[str, date]], discount: str = "0", open_total: Decimal = OPEN) -> list[str]:
    return [w.code for w in check(make_proposal(payments, discount, today=TODAY), open_total, TODAY, ROOM)]


def test_payment_in_full_within_the_term_fits() -> None:
    assert codes([("1000.00", days(7))]) == []


def test_half_first_then_the_rest_fits() -> None:
    assert codes([("500.00", days(3)), ("250.00", days(30)), ("250.00", days(60))]) == []


def test_a_first_payment_under_half_is_warned_with_the_minimum() -> None:
    proposal = make_proposal([("300.00", days(3)), ("700.00", days(30))], today=TODAY)
    (warning,) = check(proposal, OPEN, TODAY, ROOM)
    assert warning.code == FIRST_PAYMENT_BELOW_MINIMUM
    assert warning.params == {"amount": "300.00", "minimum": "500.00", "pct": "50"}


def test_the_minimum_first_payment_rounds_to_the_cent() -> None:
    assert codes([("50.01", days(1)), ("50.00", days(20))], open_total=Decimal("100.01")) == []
    assert FIRST_PAYMENT_BELOW_MINIMUM in codes([("50.00", days(1)), ("50.01", days(20))],
                                                open_total=Decimal("100.01"))


def test_more_instalments_than_allowed() -> None:
    plan = [("500.00", days(1)), ("200.00", days(10)), ("200.00", days(20)), ("100.00", days(30))]
    assert codes(plan) == [TOO_MANY_INSTALMENTS]


def test_a_due_date_beyond_the_term() -> None:
    assert codes([("1000.00", days(61))]) == [BEYOND_TERM]
    assert codes([("1000.00", days(60))]) == []


def test_a_discount_only_for_quick_payment_in_full() -> None:
    assert codes([("980.00", days(5))], discount="2") == []
    assert codes([("980.00", days(6))], discount="2") == [DISCOUNT_NOT_ALLOWED]
    assert DISCOUNT_NOT_ALLOWED in codes([("970.00", days(2))], discount="3")


def test_no_discount_allowed_at_all_when_the_room_has_none() -> None:
    room = NegotiationRoom(discount_pct=Decimal(0), discount_within_days=0)
    proposal = make_proposal([("990.00", days(1))], "1", today=TODAY)
    assert [w.code for w in check(proposal, OPEN, TODAY, room)] == [DISCOUNT_NOT_ALLOWED]


def test_a_total_below_what_is_open_without_a_discount() -> None:
    assert codes([("600.00", days(3)), ("300.00", days(20))]) == [TOTAL_BELOW_OPEN]
    assert codes([("970.00", days(3))], discount="2") == [TOTAL_BELOW_OPEN]  # 2 % of 1000 is 980 due


def test_a_total_above_what_is_open_is_warned_too() -> None:
    assert codes([("1100.00", days(3))]) == [TOTAL_ABOVE_OPEN]


def test_an_amount_not_worth_a_call() -> None:
    assert codes([("12.50", days(3))], open_total=Decimal("12.50")) == [BELOW_MIN_AMOUNT]


def test_several_breaches_are_all_reported() -> None:
    plan = [("100.00", days(1)), ("100.00", days(30)), ("100.00", days(50)), ("100.00", days(90))]
    assert set(codes(plan)) == {FIRST_PAYMENT_BELOW_MINIMUM, TOO_MANY_INSTALMENTS, BEYOND_TERM, TOTAL_BELOW_OPEN}


def test_payments_are_ordered_by_date() -> None:
    proposal = make_proposal([("500.00", days(30)), ("500.00", days(2))], today=TODAY)
    assert [p.due_date for p in proposal.payments] == [days(2), days(30)]
    assert proposal.first.amount == Decimal("500.00") and proposal.total == OPEN


@pytest.mark.parametrize("payments, discount", [
    ([], "0"), ([("0.00", days(1))], "0"), ([("-5.00", days(1))], "0"), ([("10.001", days(1))], "0"),
    ([("abc", days(1))], "0"), ([("10.00", days(-1))], "0"), ([("10.00", days(1))], "100"),
    ([("10.00", days(1))], "-1"), ([("10.00", days(1))], "NaN"),
])
def test_proposals_that_cannot_be_an_agreement(payments: list, discount: str) -> None:
    with pytest.raises(NegotiationError):
        make_proposal(payments, discount, today=TODAY)


def test_amount_due_after_discount() -> None:
    assert amount_due(Decimal("1234.56"), Decimal("2")) == Decimal("1209.87")


def test_the_room_is_read_from_toml_with_min_amount_from_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "room.toml"
    path.write_text("[room]\nmin_first_payment_pct = 40\nmax_instalments = 4\nmax_term_days = 90\n"
                    "discount_pct = 1.5\ndiscount_within_days = 3\n")
    room = load_room(path, min_amount=Decimal("30.00"))
    assert (room.min_first_payment_pct, room.max_instalments, room.max_term_days, room.discount_pct,
            room.discount_within_days, room.min_amount) == (Decimal(40), 4, 90, Decimal("1.5"), 3, Decimal("30.00"))
    assert load_room(tmp_path / "missing.toml", min_amount=Decimal(25)).min_first_payment_pct == Decimal(50)
    path.write_text("[room]\nmax_instalment = 4\n")
    with pytest.raises(NegotiationError, match="max_instalment"):
        load_room(path, min_amount=Decimal(25))


def test_the_shipped_room_follows_the_handbook() -> None:
    room = load_room(Path(__file__).resolve().parent.parent / "config" / "negotiation.toml",
                     min_amount=Decimal("25.00"))
    assert room.min_first_payment_pct == Decimal(50)
