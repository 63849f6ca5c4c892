"""The screens' read pool on a real PostgreSQL: generic plans prepared once, and a dropped connection survived."""

from __future__ import annotations

import logging
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dialer.storage.database import make_engine
from web.readpool import ReadPool, Statement

pytestmark = pytest.mark.postgres

NAME = "belblok-screen-reads"


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True)


async def test_a_read_is_prepared_once_with_a_generic_plan(postgres_server: str) -> None:
    engine = make_engine(postgres_server)
    pool = ReadPool(engine, size=1)
    await pool.open()
    try:
        mode = await pool.value("SHOW plan_cache_mode")
        answer = await pool.value("SELECT $1::int + 1", (41,))
        for _ in range(3):
            assert await pool.value("SELECT $1::int + 1", (1,)) == 2
        prepared = await pool.value("SELECT count(*) FROM pg_prepared_statements "
                                    "WHERE statement LIKE 'SELECT $1::int + 1%'")
    finally:
        await pool.close()
        engine.dispose()
    assert mode == "force_generic_plan" and answer == 42
    assert prepared == 1  # prepared at its first use, then reused


async def test_a_read_survives_the_server_dropping_its_connection(postgres_server: str,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(postgres_server)
    pool = ReadPool(engine, size=1)
    await pool.open()
    try:
        pid = await pool.value("SELECT pg_backend_pid()")
        with _admin(postgres_server) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
            deadline = time.monotonic() + 30  # termination is asynchronous: wait until the backend is gone
            while (gone := admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                                         (pid,)).fetchone()) != (0,) and time.monotonic() < deadline:
                time.sleep(0.01)
        with caplog.at_level(logging.WARNING, logger="web.readpool"):
            again = await pool.value("SELECT pg_backend_pid()")
    finally:
        await pool.close()
        engine.dispose()
    assert gone == (0,)
    assert again != pid
    assert "trying once more" in caplog.text


async def test_a_statement_is_sent_in_postgresqls_own_form(postgres_server: str) -> None:
    statement = Statement.of(text("SELECT CAST(:b AS int) * 100 + CAST(:a AS int) * 10 + CAST(:b AS int)"))
    engine = make_engine(postgres_server)
    pool = ReadPool(engine, size=1)
    await pool.open()
    try:
        found = await pool.value(statement.sql, statement.args({"a": 2, "b": 3, "unused": 9}))
    finally:
        await pool.close()
        engine.dispose()
    assert statement.names == ("b", "a")  # each parameter once, in the order of its first use
    assert "$1" in statement.sql and "$2" in statement.sql and ":b" not in statement.sql
    assert found == 323
