"""Running blocking database work from a view: one transaction in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from .keys import READS, SESSIONS

T = TypeVar("T")


async def run(request: web.Request | web.Application, work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction (committed if it returns) off the event loop."""
    app = request.app if isinstance(request, web.Request) else request
    sessions = app[SESSIONS]

    def transaction() -> T:
        with sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(transaction)


async def read(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run read-only `work(session)` off the event loop in autocommit mode (for single-statement reads)."""
    sessions = request.app[READS]

    def reading() -> T:
        with sessions() as session:
            return work(session)

    return await asyncio.to_thread(reading)

