"""Alembic environment for Belblok, configured from code (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from dialer.schema import metadata
from dialer.storage.database import MIGRATION_LOCK, make_engine

config = context.config
# dialer.schema imports every model module, so autogenerate sees every table.
target_metadata = metadata


def _configure_and_run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Coordinators starting together on one empty database take turns;
        # the next one then finds the schema current. Released at commit.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    # SQLite cannot ALTER most things in place; batch mode copies the table.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Write the migration SQL for the configured URL instead of running it."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url to render migrations offline")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the caller's connection (in a transaction), or on a fresh engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("pass a connection or set sqlalchemy.url to migrate")
    engine = make_engine(url)
    try:
        # One transaction from the lock to the version stamp, committed here.
        with engine.begin() as fresh:
            _configure_and_run(fresh)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
