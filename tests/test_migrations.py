"""Tests of dialer.storage.database and the Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

import dialer.storage.database
from dialer.calllog.attempt import Attempt
from dialer.schema import metadata
from dialer.storage.database import (
    MIGRATION_LOCK,
    DatabaseError,
    alembic_config,
    ensure_schema,
    make_engine,
    safe_url,
    schema_state,
    session_factory,
    upgrade,
)

LATER_REVISION = '''"""A later revision, as a newer Belblok would ship."""

from alembic import op
import sqlalchemy as sa

revision = "later_for_tests"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("later", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("later")
'''


@pytest.fixture
def newer_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Belblok at a copy of its migrations with one more revision."""
    copy = tmp_path / "migrations"
    shutil.copytree(dialer.storage.database.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    (copy / "versions" / "9999_later_for_tests.py").write_text(LATER_REVISION.format(head=head))
    monkeypatch.setattr(dialer.storage.database, "MIGRATIONS", copy)
    return copy


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert "attempts" in tables


def test_schema_state_goes_from_empty_to_current(bare_engine: Engine) -> None:
    assert schema_state(bare_engine) == "empty"
    upgrade(bare_engine)
    assert schema_state(bare_engine) == "current"
    upgrade(bare_engine)  # a second upgrade is a no-op
    assert schema_state(bare_engine) == "current"


def test_ensure_schema_creates_an_empty_database(bare_engine: Engine) -> None:
    ensure_schema(bare_engine)
    assert schema_state(bare_engine) == "current"
    ensure_schema(bare_engine)
    with session_factory(bare_engine)() as session:
        assert session.query(Attempt).count() == 0


def test_threads_starting_together_migrate_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(ensure_schema, engines))
        assert schema_state(engines[0]) == "current"
    finally:
        for each in engines:
            each.dispose()


def test_connections_opening_a_new_sqlite_file_together_all_get_in(tmp_path: Path) -> None:
    # Switching a new file to WAL races: SQLite answered "database is locked" at once, without waiting, in
    # about 7 % of such rounds (seen as test_threads_starting_together_migrate_once failing now and then).
    threads = 6
    for round_ in range(50):
        engines = [make_engine(f"sqlite:///{tmp_path / f'r{round_}.db'}") for _ in range(threads)]
        start = threading.Barrier(threads)

        def write(engine: Engine) -> None:
            start.wait()
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                connection.execute(text("INSERT INTO t VALUES (1)"))

        try:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(write, engines))
            with engines[0].connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == threads
                assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        finally:
            for engine in engines:
                engine.dispose()


@pytest.mark.postgres
def test_migrating_holds_a_lock_other_coordinators_wait_for(postgres_server: str) -> None:
    engine = make_engine(postgres_server)

    def lock_is_free() -> bool:
        with engine.connect() as probe:
            free = probe.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            ).scalar_one()
        return bool(free)

    try:
        with engine.begin() as connection:
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            # Until this transaction commits, a second coordinator's upgrade waits.
            assert not lock_is_free()
        assert lock_is_free()
        assert schema_state(engine) == "current"
    finally:
        engine.dispose()


def test_ensure_schema_can_leave_an_empty_database_alone(bare_engine: Engine) -> None:
    ensure_schema(bare_engine, auto_create=False)
    assert schema_state(bare_engine) == "empty"


def test_an_older_revision_is_outdated(engine: Engine, newer_migrations: Path) -> None:
    assert schema_state(engine) == "outdated"
    with pytest.raises(DatabaseError, match=r"out of date: run `belblok db upgrade`"):
        ensure_schema(engine)
    upgrade(engine)
    assert schema_state(engine) == "current"
    assert "later" in inspect(engine).get_table_names()


def test_base_with_only_the_version_table_is_outdated(engine: Engine) -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    assert schema_state(engine) == "outdated"
    with pytest.raises(DatabaseError, match="out of date"):
        ensure_schema(engine)
    upgrade(engine)
    assert schema_state(engine) == "current"


def test_an_unknown_revision_is_unknown(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffdeadbeef'"))
    assert schema_state(engine) == "unknown"
    with pytest.raises(DatabaseError, match="out of date or not Belblok's"):
        ensure_schema(engine)


def test_tables_without_a_version_are_unknown(bare_engine: Engine) -> None:
    with bare_engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    assert schema_state(bare_engine) == "unknown"
    with pytest.raises(DatabaseError, match="out of date or not Belblok's"):
        ensure_schema(bare_engine)
    assert set(inspect(bare_engine).get_table_names()) == {"invoices"}


def test_alembic_config_can_migrate_by_url(db_url: str) -> None:
    # The path `belblok db upgrade` may take: no engine, only a URL.
    command.upgrade(alembic_config(db_url), "head")
    engine = make_engine(db_url)
    try:
        assert schema_state(engine) == "current"
    finally:
        engine.dispose()


def test_alembic_config_points_at_the_packaged_migrations() -> None:
    config = alembic_config("sqlite:///var/belblok.db")
    location = Path(config.get_main_option("script_location") or "")
    assert (location / "env.py").is_file()
    assert (location / "versions" / "0001_attempts.py").is_file()
    assert config.get_main_option("sqlalchemy.url") == "sqlite:///var/belblok.db"


def test_alembic_config_keeps_a_percent_in_the_password() -> None:
    url = "postgresql://postgres:50%25off@127.0.0.1:5432/belblok"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def test_unreachable_postgres_is_a_one_line_error_without_password() -> None:
    engine = make_engine("postgresql://postgres:s3cret@127.0.0.1:1/belblok")
    try:
        with pytest.raises(DatabaseError) as caught:
            ensure_schema(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert message == (
        "cannot reach the database at postgresql://postgres@127.0.0.1:1/belblok: "
        "connection refused"
    )


def test_sqlite_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(DatabaseError) as caught:
        make_engine(f"sqlite:///{blocker}/sub/belblok.db")
    message = str(caught.value)
    assert message.startswith(f"cannot reach the database at sqlite:///{blocker}/sub/belblok.db: ")
    assert "\n" not in message


def test_sqlite_file_that_cannot_be_opened(tmp_path: Path) -> None:
    # The path is a directory: the parent exists, opening the file fails.
    (tmp_path / "belblok.db").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'belblok.db'}")
    try:
        with pytest.raises(DatabaseError) as caught:
            ensure_schema(engine)
    finally:
        engine.dispose()
    assert str(caught.value) == (
        f"cannot reach the database at sqlite:///{tmp_path / 'belblok.db'}: "
        "unable to open database file"
    )


def test_make_engine_creates_the_sqlite_directory(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'deep' / 'belblok.db'}")
    try:
        assert (tmp_path / "var" / "deep").is_dir()
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()


def test_make_engine_uses_psycopg_for_postgresql() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/belblok")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/belblok", "postgresql+psycopg2://u@h/db", "not a url"]
)
def test_make_engine_refuses_other_databases(url: str) -> None:
    with pytest.raises(DatabaseError):
        make_engine(url)


def test_safe_url_drops_the_password() -> None:
    assert safe_url("postgresql+psycopg://u:pw@h:5/db") == "postgresql://u@h:5/db"
    assert safe_url("sqlite:///var/belblok.db") == "sqlite:///var/belblok.db"
