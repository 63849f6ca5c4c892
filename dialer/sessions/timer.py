"""Timers for power dialling: the event loop's, and a manual one that tests fire by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


class TimerHandle(Protocol):
    """A started timer."""

    def cancel(self) -> None:
        """Stop it from firing."""


class Timer(Protocol):
    """Runs `action` after `delay_s` seconds (injectable: tests fire it by hand)."""

    def start(self, delay_s: float, action: Callable[[], Awaitable[None]]) -> TimerHandle:
        """Arm the timer."""


class LoopTimer:
    """The real timer: the running event loop's call_later."""

    def start(self, delay_s: float, action: Callable[[], Awaitable[None]]) -> TimerHandle:
        """Run `action` as a task after `delay_s` seconds."""
        loop = asyncio.get_running_loop()
        return loop.call_later(delay_s, lambda: asyncio.ensure_future(action()))


@dataclass
class ManualHandle:
    """A timer armed on a ManualTimer."""

    delay_s: float
    action: Callable[[], Awaitable[None]]
    cancelled: bool = False

    def cancel(self) -> None:
        """Stop it from firing."""
        self.cancelled = True


class ManualTimer:
    """A timer for tests: nothing fires until `fire()` is awaited."""

    def __init__(self) -> None:
        self.armed: list[ManualHandle] = []

    def start(self, delay_s: float, action: Callable[[], Awaitable[None]]) -> ManualHandle:
        """Remember the action."""
        handle = ManualHandle(delay_s, action)
        self.armed.append(handle)
        return handle

    @property
    def pending(self) -> list[ManualHandle]:
        """Armed and not cancelled."""
        return [h for h in self.armed if not h.cancelled]

    async def fire(self) -> int:
        """Run every pending action once; how many ran."""
        due, self.armed = self.pending, []
        for handle in due:
            await handle.action()
        return len(due)
