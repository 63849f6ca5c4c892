"""The screens' reads on PostgreSQL: pooled asynchronous psycopg connections on the event loop, no thread hop."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

POOL_SIZE = 4  # the dossier statement is ~1 ms of PostgreSQL: four in flight keep two cores busy
# Every read here finds its rows by a debtor's reference: one plan fits every reference, so PostgreSQL plans each
# statement once per connection (prepared at first use) instead of re-planning it (a custom plan of the
# dossier costs 2.6–2.9 ms of PostgreSQL CPU, the generic one 0.7–0.9 ms: bench/plans.py).
READ_SETTINGS = {"autocommit": True, "prepare_threshold": 0, "application_name": "belblok-screen-reads",
                 "options": "-c plan_cache_mode=force_generic_plan"}


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

    async def value(self, sql: str, params: Any) -> Any:
        """The first column of the first row `sql` returns (None without a row)."""
        try:
            return await self._value(sql, params)
        except PoolTimeout:
            raise  # no connection within the timeout: the server is down or overloaded, asking again won't help
        except psycopg.OperationalError as exc:
            log.warning("screen read failed (%s); trying once more on another connection", exc)
            await self.pool.check()  # drop every idle connection the server has closed
            return await self._value(sql, params)

    async def _value(self, sql: str, params: Any) -> Any:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(sql, params)).fetchone()
            return None if row is None else row[0]
