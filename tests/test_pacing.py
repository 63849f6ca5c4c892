"""Call set-up pacing stays inside the wheel's call slots and socket budget."""

from __future__ import annotations

from softphone.pacing import MAX_CALLS, RELEASE_DELAY_S, SOCKETS_PER_CALL, Pacer


def test_no_more_than_max_calls_live() -> None:
    pacer = Pacer(budget=1000)
    t = 0.0
    for _ in range(MAX_CALLS):
        assert pacer.may_start(t)
        pacer.started(t)
        t += 1
    assert not pacer.may_start(t)
    pacer.released(t)
    assert pacer.may_start(t + pacer.min_gap_s)


def test_released_sockets_count_until_the_release_delay_has_passed() -> None:
    budget = 4 * SOCKETS_PER_CALL
    pacer = Pacer(max_calls=100, budget=budget)
    t = 0.0
    for _ in range(3):
        t += pacer.min_gap_s
        assert pacer.may_start(t)
        pacer.started(t)
        pacer.released(t)
    t += pacer.min_gap_s
    assert pacer.may_start(t)
    pacer.started(t)
    pacer.released(t)
    assert not pacer.may_start(t + pacer.min_gap_s)  # four calls' sockets still linger
    assert pacer.may_start(t + RELEASE_DELAY_S + 0.001)


def test_set_ups_are_spread_by_the_minimum_gap() -> None:
    pacer = Pacer()
    pacer.started(10.0)
    assert not pacer.may_start(10.0 + pacer.min_gap_s / 2)
    assert pacer.may_start(10.0 + pacer.min_gap_s)
