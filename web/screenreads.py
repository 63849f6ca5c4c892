"""What the agent screen and the dossier API read: on PostgreSQL one round trip on the event loop, no ORM.

On PostgreSQL the dossier is one statement (`dialer.dossiersql`) and the debtor's agenda two small ones, sent
together (psycopg's pipeline) on one pooled asynchronous connection (`web.readpool`). A worker thread, an ORM
Session, the ORM queries of `worklists.agenda` and SQLAlchemy's execution path cost more CPU than the
statements themselves (docs/performance.md). SQLite keeps the ORM path in a worker thread.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.dialects import postgresql

from dialer.dossiersql import STATEMENT, dossier_params, finish, read_dossier
from dialer.worklists import agenda

from .keys import READ_POOL, READS

Agenda = dict[str, list[dict[str, Any]]]

# worklists.agenda as SQL (tests/test_web_render.py keeps them equal): pending call-backs and open tasks.
_DEBTOR = "(SELECT id FROM debtors WHERE ref = %s)"
CALLBACKS_SQL = (f"SELECT id, kind, due_at, agent, note FROM callbacks WHERE debtor_id = {_DEBTOR} "
                 "AND status IN ('pending', 'claimed') ORDER BY due_at LIMIT 20")
TASKS_SQL = ("SELECT id, kind, title, detail, agent, role, created_at, created_by, debtor_id FROM tasks "
             f"WHERE debtor_id = {_DEBTOR} AND status = 'open' ORDER BY id DESC LIMIT 20")
DOSSIER_SQL = str(STATEMENT.compile(dialect=postgresql.psycopg.dialect()))  # :name → %(name)s


def _iso(stored: datetime) -> str:
    """A stored naive-UTC timestamp as `UTCDateTime` reads it back, in ISO 8601."""
    return stored.replace(tzinfo=UTC).isoformat()


def agenda_of(callbacks: list[tuple[Any, ...]], tasks: list[tuple[Any, ...]]) -> Agenda:
    """`worklists.agenda` from the rows of CALLBACKS_SQL and TASKS_SQL."""
    return {
        "callbacks": [{"id": id_, "kind": kind, "due_at": _iso(due), "agent": agent, "note": note}
                      for id_, kind, due, agent, note in callbacks],
        "tasks": [{"id": id_, "kind": kind, "title": title, "detail": detail, "agent": agent, "role": role,
                   "created_at": _iso(created), "created_by": by, "debtor_id": debtor}
                  for id_, kind, title, detail, agent, role, created, by, debtor in tasks],
    }


def agenda_statements(ref: str) -> list[tuple[str, tuple[str]]]:
    """The agenda's two statements for the debtor `ref`."""
    return [(CALLBACKS_SQL, (ref,)), (TASKS_SQL, (ref,))]


def _orm_read(request: web.Request, ref: str, today: date,
              with_agenda: bool) -> tuple[dict[str, Any], Agenda | None]:
    """The SQLite path: `read_dossier` and `worklists.agenda` on an ORM session (run in a worker thread)."""
    with request.app[READS]() as session:
        dossier = read_dossier(session, ref, today)
        return dossier, agenda(session, dossier["debtor"]["id"]) if with_agenda else None


async def _read(request: web.Request, ref: str, today: date, with_agenda: bool) -> tuple[dict[str, Any], Agenda | None]:
    """The dossier (UnknownDebtor if there is none) and, if asked, the agenda: one round trip on PostgreSQL."""
    if READ_POOL not in request.app:
        return await asyncio.to_thread(_orm_read, request, ref, today, with_agenda)
    statements = [(DOSSIER_SQL, dossier_params(ref, today))] + (agenda_statements(ref) if with_agenda else [])
    found = await request.app[READ_POOL].rows(statements)
    dossier = finish(found[0][0][0] if found[0] else None, ref)
    return dossier, agenda_of(found[1], found[2]) if with_agenda else None


async def dossier(request: web.Request, ref: str, today: date) -> dict[str, Any]:
    """The dossier of `ref` (UnknownDebtor if there is none), exactly as `build_dossier` makes it."""
    found, _ = await _read(request, ref, today, False)
    return found


async def screen(request: web.Request, ref: str, today: date) -> tuple[dict[str, Any], Agenda]:
    """The dossier and the debtor's agenda (pending call-backs, open tasks) in one round trip."""
    found, plans = await _read(request, ref, today, True)
    assert plans is not None
    return found, plans
