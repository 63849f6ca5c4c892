"""Database fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.calllog.journal import CallLog
from dialer.storage.database import make_engine, session_factory, upgrade

__all__ = ["bare_engine", "calllog", "db_url", "engine", "postgres_server", "sessions"]

# CI starts this server; a missing server is a failure, never a skip.
POSTGRES_SERVER = os.environ.get("BELBLOK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture
def postgres_server() -> Iterator[str]:
    """Yield the URL of a fresh, uniquely named PostgreSQL database and drop it after."""
    name = f"belblok_test_{uuid.uuid4().hex[:12]}"
    failure: str | None = None
    try:
        admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        failure = " ".join(str(exc).split())
    if failure is not None:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_SERVER} ({failure}); "
            "start it (CI does) or set BELBLOK_TEST_POSTGRES",
            pytrace=False,
        )
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{POSTGRES_SERVER}/{name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'belblok.db'}"
    url: str = request.getfixturevalue("postgres_server")
    return url


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """Yield an engine on the empty (unmigrated) test database."""
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """Return an engine on the test database migrated to the newest revision."""
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def calllog(engine: Engine) -> CallLog:
    """Return a call log on the migrated test database."""
    return CallLog(session_factory(engine))


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Return sessions on the migrated test database."""
    return session_factory(engine)
