"""The screens' reads on PostgreSQL: pooled asynchronous psycopg connections on the event loop, no thread hop."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncRawCursor
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import TextClause
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

POOL_SIZE = 4  # the dossier statement is ~1 ms of PostgreSQL: four in flight keep two cores busy
# Every read here finds its rows by a debtor's reference: one plan fits every reference, so PostgreSQL plans each
# statement once per connection (prepared at first use) instead of re-planning it (a custom plan of the
# dossier costs 2.6–2.9 ms of PostgreSQL CPU, the generic one 0.7–0.9 ms: bench/plans.py).
# Statements go to the server as written ($1, $2 …; psycopg's raw cursor): psycopg converts %(name)s placeholders
# on every execute and caches the conversion only for statements under 4,096 characters; the screen's is ~10,000
# (0.04–0.05 ms of the panel's CPU per page, docs/performance.md).
READ_SETTINGS = {"autocommit": True, "prepare_threshold": 0, "application_name": "belblok-screen-reads",
                 "options": "-c plan_cache_mode=force_generic_plan", "cursor_factory": AsyncRawCursor}


@dataclass(frozen=True)
class Statement:
    """A statement in PostgreSQL's own form ($1, $2 …) and the names of its parameters in that order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, clause: TextClause) -> Statement:
        """The clause (`:name` parameters) compiled once for the pool."""
        compiled = clause.compile(dialect=postgresql.psycopg.dialect(paramstyle="numeric_dollar"))
        return cls(str(compiled), tuple(compiled.positiontup or ()))

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters' values in the statement's order."""
        return tuple(params[name] for name in self.names)


class ReadPool:
    """Autocommit connections for one-statement reads, opened from the app's engine URL."""

    def __init__(self, engine: Engine, size: int = POOL_SIZE) -> None:
        _args, params = engine.dialect.create_connect_args(engine.url)
        # No ping per checkout (SQLAlchemy's pre-ping is a round trip per request): a connection the server
        # dropped fails its statement, the pool discards it, and the read is tried once more (reads are
        # idempotent).
        self.pool = AsyncConnectionPool(kwargs={**params, **READ_SETTINGS}, min_size=1, max_size=size,
                                        open=False, name="screen-reads", timeout=10.0)

    async def open(self) -> None:
        """Start the pool (it connects in the background)."""
        await self.pool.open()

    async def close(self) -> None:
        """Close every connection."""
        await self.pool.close()

    async def value(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        """The first column of the first row `sql` ($1, $2 … for `args`) returns (None without a row)."""
        try:
            return await self._value(sql, args)
        except PoolTimeout:
            raise  # no connection within the timeout: the server is down or overloaded, asking again won't help
        except psycopg.OperationalError as exc:
            log.warning("screen read failed (%s); trying once more on another connection", exc)
            await self.pool.check()  # drop every idle connection the server has closed
            return await self._value(sql, args)

    async def _value(self, sql: str, args: Sequence[Any] | None) -> Any:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(sql, args)).fetchone()
            return None if row is None else row[0]
