"""Running blocking database work from a view: one transaction in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from dialer.dossiersql import read_dossier

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


async def dossier(request: web.Request, ref: str, today: date) -> dict[str, Any]:
    """The dossier for a view: one query on PostgreSQL (`dialer.dossiersql`), `build_dossier` elsewhere."""
    # A worker thread with a plain connection measured about twice as fast as SQLAlchemy's asyncio engine.
    return await read(request, lambda s: read_dossier(s, ref, today))
