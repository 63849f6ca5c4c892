"""What the agent screen and the dossier API read: on PostgreSQL one statement on the event loop, no ORM.

On PostgreSQL the dossier is one statement (`dialer.dossiers.dossiersql`), and the agent screen's dossier with the
debtor's agenda another (`dialer.dossiers.screensql`), run on a pooled asynchronous connection (`web.readpool`). A worker
thread, an ORM Session, the ORM queries and SQLAlchemy's execution path cost more CPU than the statements
themselves (docs/performance.md). SQLite keeps the ORM path in a worker thread.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from aiohttp import web

from dialer.dossiers import dossiersql, screensql
from dialer.dossiers.dossiersql import dossier_params, finish, read_dossier
from dialer.dossiers.screensql import Agenda, finish_screen
from dialer.dossiers.worklists import agenda

from .keys import READ_POOL, READS
from .readpool import Statement

DOSSIER = Statement.of(dossiersql.STATEMENT)
SCREEN = Statement.of(screensql.STATEMENT)


def _orm_read(request: web.Request, ref: str, today: date,
              with_agenda: bool) -> tuple[dict[str, Any], Agenda | None]:
    """The SQLite path: `read_dossier` and `worklists.agenda` on an ORM session (run in a worker thread)."""
    with request.app[READS]() as session:
        dossier = read_dossier(session, ref, today)
        return dossier, agenda(session, dossier["debtor"]["id"]) if with_agenda else None


async def dossier(request: web.Request, ref: str, today: date) -> dict[str, Any]:
    """The dossier of `ref` (UnknownDebtor if there is none), exactly as `build_dossier` makes it."""
    if READ_POOL not in request.app:
        return (await asyncio.to_thread(_orm_read, request, ref, today, False))[0]
    return finish(await request.app[READ_POOL].value(DOSSIER.sql, DOSSIER.args(dossier_params(ref, today))), ref)


async def screen(request: web.Request, ref: str, today: date) -> tuple[dict[str, Any], Agenda]:
    """The dossier and the debtor's agenda (pending call-backs, open tasks): one statement on PostgreSQL."""
    if READ_POOL not in request.app:
        found, plans = await asyncio.to_thread(_orm_read, request, ref, today, True)
        assert plans is not None
        return found, plans
    return finish_screen(await request.app[READ_POOL].value(SCREEN.sql, SCREEN.args(dossier_params(ref, today))),
                         ref)
