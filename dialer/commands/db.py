"""`belblok db upgrade|status`."""

from __future__ import annotations

import argparse

from ..settings.config import Config
from ..storage.database import make_engine, schema_state, upgrade


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `db` command."""
    db = sub.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="create or migrate the database")
    actions.add_parser("status", help="show whether the schema is current")
    db.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Upgrade or report the schema."""
    engine = make_engine(cfg.database.url)
    try:
        if args.db_command == "upgrade":
            before = schema_state(engine)
            upgrade(engine)
            print(f"database {before} → current")
        else:
            print(schema_state(engine))
    finally:
        engine.dispose()
    return 0
