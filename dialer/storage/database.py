"""Database engines, the schema's migration state and sessions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import RLock
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK = int.from_bytes(b"belblok", "big")  # a PostgreSQL advisory lock key

_ALEMBIC_RUNNING = RLock()

SchemaState = Literal["empty", "current", "outdated", "unknown"]


class DatabaseError(Exception):
    """The database cannot be used; the message is one line for the user."""


def safe_url(url: str | URL) -> str:
    """Render a database URL for messages: no password, the driver as typed."""
    parsed = make_url(url)
    drivername = "postgresql" if parsed.drivername == "postgresql+psycopg" else parsed.drivername
    # URL.set() treats password=None as "leave unchanged", so rebuild it.
    bare = URL.create(
        drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create an engine for a sqlite:/// or postgresql:// URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            "not a database URL: expected sqlite:///path.db or postgresql://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _make_parent_directory(parsed)
        engine = create_engine(parsed, pool_pre_ping=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        path = sqlite_file(parsed)
        if path is not None:
            event.listen(engine, "connect", lambda *_: _private(path))
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername != "postgresql+psycopg":
            raise DatabaseError(
                f"unsupported PostgreSQL driver {parsed.drivername!r}: use postgresql://"
            )
        return create_engine(parsed, pool_pre_ping=True)
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names; None for memory and `file:` URIs (or a URL of another database)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _make_parent_directory(url: URL) -> None:
    path = sqlite_file(url)
    if path is None:
        return
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseError(
            f"cannot reach the database at {safe_url(url)}: "
            f"cannot create directory {parent}: {reason.lower()}"
        ) from None


def _private(path: Path) -> None:
    """The database file readable by the service's user only, whatever the umask it was created under."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # SQLite gives its -wal and -shm files the main file's mode
    except OSError:  # not ours to change (a read-only copy, another owner): SQLite reports what matters
        pass


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets the panel read while a worker event writes; busy_timeout makes
    # a second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        _use_wal(cursor)
    finally:
        cursor.close()


BUSY_TIMEOUT_MS = 5000


def _use_wal(cursor: Any) -> None:
    """Put the database file in WAL mode (it stays so); connections opening a new file together race for it."""
    # Switching needs the file to itself: two connections switching at the same moment can each hold what the
    # other waits for, and SQLite answers "database is locked" at once instead of calling the busy handler
    # (7 % of rounds with six threads opening a new file). Try again until the busy timeout is spent.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def alembic_config(engine_or_url: Engine | str) -> Config:
    """Return an Alembic config for Belblok's migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if isinstance(engine_or_url, Engine):
        url = engine_or_url.url.render_as_string(hide_password=False)
    else:
        url = engine_or_url
    # Config is a ConfigParser: a literal % (say, in a password) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _reaching(engine: Engine) -> Iterator[None]:
    """Turn a failure to connect into a one-line DatabaseError."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseError(
            f"cannot reach the database at {safe_url(engine.url)}: {_reason(exc)}"
        ) from exc


def _reason(exc: OperationalError | InterfaceError) -> str:
    # Drivers prefix their messages ("connection failed: connection to server
    # at ... failed: Connection refused") and add hint lines; keep the cause.
    text = str(exc.orig if exc.orig is not None else exc)
    first = next((line for line in text.splitlines() if line.strip()), text)
    parts = [part.strip() for part in first.split(": ") if part.strip()]
    reason = parts[-1] if parts else first.strip()
    if len(reason) > 1 and reason[0].isupper() and reason[1].islower():
        reason = reason[0].lower() + reason[1:]
    return reason or type(exc.orig).__name__


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema revision."""
    # Alembic's `context` and `op` are module-level proxies: one migration at
    # a time per process. Across processes env.py takes a PostgreSQL lock.
    with _ALEMBIC_RUNNING, _reaching(engine), engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_state(engine: Engine) -> SchemaState:
    """Tell whether the schema is empty, current, outdated or unknown."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    heads = set(script.get_heads())
    with _reaching(engine), engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        if not tables:
            return "empty"
        if VERSION_TABLE not in tables:
            return "unknown"
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return "current"
    if not current:
        # At base: only the version table is left, upgrading is safe.
        return "outdated" if tables == {VERSION_TABLE} else "unknown"
    for revision in current:
        try:
            if script.get_revision(revision) is None:
                return "unknown"
        except CommandError:
            # Stamped by a newer Belblok, or by another application.
            return "unknown"
    return "outdated"


def ensure_schema(engine: Engine, *, auto_create: bool = True) -> None:
    """Create the schema on an empty database; refuse an out-of-date one."""
    state = schema_state(engine)
    if state == "current":
        return
    # pysqlite commits DDL as it goes, so a migration under way in another
    # thread looks "outdated" for a moment: decide again once it is done.
    with _ALEMBIC_RUNNING:
        state = schema_state(engine)
        if state == "empty" and auto_create:
            upgrade(engine)
            return
    if state == "outdated":
        raise DatabaseError("the database schema is out of date: run `belblok db upgrade`")
    elif state == "unknown":
        raise DatabaseError(
            "the database schema is out of date or not Belblok's: "
            "run `belblok db upgrade`, or use an empty database"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
