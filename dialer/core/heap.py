"""Python's cyclic garbage collector kept out of the event loop's way during bulk work and after start-up.

A full collection walks every object of the process while holding the GIL, whichever thread triggers it. In the
panel that thread is often a worker doing bulk ORM work (the hourly promise sweep loads tens of thousands of
promises): each full collection then stops the event loop, and so every agent's page and live call, for
50-190 ms, and the sweep triggers several as its objects pile up (docs/performance.md, "Pauses").
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while the block runs (reference counting still frees what it can).

    For bulk work whose objects live until it ends anyway: collecting meanwhile finds nothing and costs pauses.
    Re-entrant and thread-safe: the collector runs again when the last holder leaves, if it ran before the first.
    """
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def freeze_start_up() -> None:
    """Move what start-up made (timers, templates, catalogs) out of every later collection's way.

    Those objects live as long as the process; without this each full collection walks them all again.
    """
    gc.collect()
    gc.freeze()
