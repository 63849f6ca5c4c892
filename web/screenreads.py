"""What the agent screen and the dossier API read: one worker-thread hop, one pooled connection, no ORM session.

On PostgreSQL the dossier is one statement (`dialer.dossiersql`) and the debtor's agenda two small ones, all
sent on the driver's connection (psycopg) of one pooled autocommit connection. A Session, the ORM queries of
`worklists.agenda` and SQLAlchemy's execution path cost more CPU than the statements themselves: together
about 0.5 ms of a page. SQLite keeps the ORM path.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Connection, Engine

from dialer.dossiersql import dossier_json, read_dossier
from dialer.worklists import agenda

from .keys import READS

Agenda = dict[str, list[dict[str, Any]]]

_readers: dict[int, ThreadPoolExecutor] = {}  # by the pool's size: the threads that read for the screens


def _executor(engine: Engine) -> ThreadPoolExecutor:
    """Threads for the reads, one fewer than the engine's pool keeps connections (SQLAlchemy's default: 5)."""
    # With asyncio's default executor (6 threads on 2 cores) the reads took a sixth connection, which the pool
    # closed again when it came back: about ten new PostgreSQL backends a second under load, each without the
    # prepared statements of the old ones. One connection stays free for the rest of the app.
    size = max(1, engine.pool.size() - 1)  # type: ignore[attr-defined]  # a QueuePool on PostgreSQL
    if size not in _readers:
        _readers[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="screen-read")
    return _readers[size]


# worklists.agenda as SQL (tests/test_web_render.py keeps them equal): pending call-backs and open tasks.
CALLBACKS_SQL = ("SELECT id, kind, due_at, agent, note FROM callbacks WHERE debtor_id = %s "
              "AND status IN ('pending', 'claimed') ORDER BY due_at LIMIT 20")
TASKS_SQL = ("SELECT id, kind, title, detail, agent, role, created_at, created_by, debtor_id FROM tasks "
          "WHERE debtor_id = %s AND status = 'open' ORDER BY id DESC LIMIT 20")


def _iso(stored: datetime) -> str:
    """A stored naive-UTC timestamp as `UTCDateTime` reads it back, in ISO 8601."""
    return stored.replace(tzinfo=UTC).isoformat()


def _agenda(driver: Any, debtor_id: int) -> Agenda:
    """`worklists.agenda` on a driver (psycopg) connection."""
    return {
        "callbacks": [{"id": id_, "kind": kind, "due_at": _iso(due), "agent": agent, "note": note}
                      for id_, kind, due, agent, note in driver.execute(CALLBACKS_SQL, (debtor_id,))],
        "tasks": [{"id": id_, "kind": kind, "title": title, "detail": detail, "agent": agent, "role": role,
                   "created_at": _iso(created), "created_by": by, "debtor_id": debtor}
                  for id_, kind, title, detail, agent, role, created, by, debtor
                  in driver.execute(TASKS_SQL, (debtor_id,))],
    }


class _Scalar:
    def __init__(self, row: Any) -> None:
        self.row = row

    def scalar(self) -> Any:
        """The first column of the row, None without a row."""
        return None if self.row is None else self.row[0]


class DriverSession:
    """What `dossier_json` asks of its session, `execute(statement, params).scalar()`, on the driver connection."""

    _compiled: dict[int, tuple[Any, str]] = {}  # id(statement) → (statement, its SQL for this driver)

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect
        self.driver = conn.connection.driver_connection

    def execute(self, statement: Any, params: dict[str, Any]) -> _Scalar:
        """Run a SQLAlchemy text() statement; compiled once per process."""
        hit = self._compiled.get(id(statement))
        if hit is None or hit[0] is not statement:
            hit = self._compiled[id(statement)] = (statement, str(statement.compile(dialect=self.dialect)))
        return _Scalar(self.driver.execute(hit[1], params).fetchone())


def _read(reads: Any, ref: str, today: date, with_agenda: bool) -> tuple[dict[str, Any], Agenda | None]:
    engine: Engine = reads.kw["bind"]  # the autocommit engine of the app's read sessions
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            session = DriverSession(conn)
            dossier = dossier_json(session, ref, today)  # type: ignore[arg-type]
            return dossier, _agenda(session.driver, dossier["debtor"]["id"]) if with_agenda else None
    with reads() as session:
        dossier = read_dossier(session, ref, today)
        return dossier, agenda(session, dossier["debtor"]["id"]) if with_agenda else None


async def _off_loop(request: web.Request, ref: str, today: date, with_agenda: bool) -> tuple[dict[str, Any], Any]:
    reads = request.app[READS]
    engine: Engine = reads.kw["bind"]
    if engine.dialect.name != "postgresql":
        return await asyncio.to_thread(_read, reads, ref, today, with_agenda)
    call = functools.partial(contextvars.copy_context().run, _read, reads, ref, today, with_agenda)
    return await asyncio.get_running_loop().run_in_executor(_executor(engine), call)  # as asyncio.to_thread does


async def dossier(request: web.Request, ref: str, today: date) -> dict[str, Any]:
    """The dossier of `ref` (UnknownDebtor if there is none), exactly as `build_dossier` makes it."""
    found, _ = await _off_loop(request, ref, today, False)
    return found


async def screen(request: web.Request, ref: str, today: date) -> tuple[dict[str, Any], Agenda]:
    """The dossier and the debtor's agenda (pending call-backs, open tasks) in one hop."""
    found, plans = await _off_loop(request, ref, today, True)
    assert plans is not None
    return found, plans
