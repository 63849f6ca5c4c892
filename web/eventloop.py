"""The server's event loop: uvloop where it is installed (Linux, macOS), else asyncio's own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop; asyncio's own where uvloop is missing (Windows) or BELBLOK_EVENT_LOOP=asyncio asks for it."""
    # uvloop runs the panel's network work (HTTP, WebSocket, the psycopg reads) in C: 10–15 % less CPU per agent
    # screen under load (bench/RESULTS.md). Everything Belblok runs on the loop works on both.
    if os.environ.get("BELBLOK_EVENT_LOOP", "uvloop") == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency wherever it builds
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on the server's loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
