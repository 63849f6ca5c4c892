"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import Session, sessionmaker

from ..calllog.journal import CallLog
from ..settings.config import Config
from ..storage.database import ensure_schema, make_engine, session_factory


class UsageError(Exception):
    """A user mistake the command reports in one line (exit 2)."""


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def sessions_for(cfg: Config) -> sessionmaker[Session]:
    """A session factory on a database whose schema is current (created on first use)."""
    engine = make_engine(cfg.database.url)
    ensure_schema(engine, auto_create=True)
    return session_factory(engine)


def calllog_for(cfg: Config) -> CallLog:
    """The call log on the configured database."""
    return CallLog(sessions_for(cfg))
