"""The collector pause: re-entrant across threads, and the collector runs again only if it ran before."""

from __future__ import annotations

import gc
import threading

from dialer.core.heap import collector_paused


def test_the_collector_is_paused_inside_and_runs_again_after_the_last_holder() -> None:
    assert gc.isenabled()
    inside, other_left = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with collector_paused():
            inside.set()
            assert other_left.wait(10)
        seen.append(gc.isenabled())

    with collector_paused():
        assert not gc.isenabled()
        worker = threading.Thread(target=other)
        worker.start()
        assert inside.wait(10)
        with collector_paused():  # re-entrant
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still holds it
    other_left.set()
    worker.join(10)
    assert seen == [True] and gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_runs_again_after_an_error_inside() -> None:
    try:
        with collector_paused():
            raise ValueError("bad row")
    except ValueError:
        pass
    assert gc.isenabled()
