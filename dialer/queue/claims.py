"""Claims: an agent takes a dossier atomically, so no dossier is ever called by two agents at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from ..calllog.attempt import Attempt
from ..dossiers.parties import Debtor
from ..storage.columns import require_aware
from .claimmodel import DossierClaim
from .facts import Claim


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that may write at once: BEGIN IMMEDIATE on SQLite (one writer), plain on PostgreSQL."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite would BEGIN (deferred) lazily; IMMEDIATE takes the write lock before we read,
            # so two claimers never both read "free" (busy_timeout makes the second one wait).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def claim_first(engine: Engine, agent: str, debtor_ids: Sequence[int], *, now: datetime,
                minutes: float) -> int | None:
    """Claim the first of `debtor_ids` (in that order) nobody else holds; its id, or None if all are held."""
    require_aware(now)
    ids = list(dict.fromkeys(debtor_ids))
    if not ids:
        return None
    with writing(engine) as connection:
        _ensure_rows(connection, ids)
        free = or_(DossierClaim.expires_at.is_(None), DossierClaim.expires_at <= now, DossierClaim.agent == agent)
        query = select(DossierClaim.debtor_id).where(_one_of(connection, DossierClaim.debtor_id, ids), free)
        take = dict(agent=agent, claimed_at=now, expires_at=now + timedelta(minutes=minutes))
        if connection.dialect.name == "postgresql":
            # Rows another claimer holds are skipped, not waited for; a row whose claim committed since our
            # snapshot is re-checked against `free` by PostgreSQL before it is locked. Lock and take in one go.
            order = func.array_position(bindparam(None, ids, type_=ARRAY(Integer)), DossierClaim.debtor_id)
            chosen = query.order_by(order).limit(1).with_for_update(skip_locked=True).cte("chosen")
            taken = connection.scalar(update(DossierClaim).where(DossierClaim.debtor_id == chosen.c.debtor_id)
                                      .values(**take).returning(DossierClaim.debtor_id))
            return None if taken is None else int(taken)
        first = connection.scalar(query.order_by(case({i: n for n, i in enumerate(ids)},
                                                      value=DossierClaim.debtor_id)).limit(1))
        if first is None:
            return None
        connection.execute(update(DossierClaim).where(DossierClaim.debtor_id == first).values(**take))
        return int(first)


def claim(engine: Engine, debtor_id: int, agent: str, *, now: datetime, minutes: float) -> bool:
    """Claim (or extend the agent's own claim on) one dossier; False if another agent holds it."""
    return claim_first(engine, agent, [debtor_id], now=now, minutes=minutes) == debtor_id


def release(engine: Engine, debtor_id: int, agent: str) -> bool:
    """End the agent's claim on a dossier; False if the agent did not hold it."""
    with writing(engine) as connection:
        result = connection.execute(update(DossierClaim)
                                    .where(DossierClaim.debtor_id == debtor_id, DossierClaim.agent == agent)
                                    .values(agent=None, claimed_at=None, expires_at=None))
        return bool(result.rowcount)


def release_all(engine: Engine, agent: str) -> int:
    """End every claim of an agent (their session ended); how many there were."""
    with writing(engine) as connection:
        result = connection.execute(update(DossierClaim).where(DossierClaim.agent == agent)
                                    .values(agent=None, claimed_at=None, expires_at=None))
        return int(result.rowcount)


def note_call(engine: Engine, debtor_id: int, *, at: datetime, outcome: str | None = None,
              ended_at: datetime | None = None) -> None:
    """Remember a dossier's last call (placed at `at`; its outcome once it ended) for the queue's retry tier."""
    require_aware(at)
    with writing(engine) as connection:
        _ensure_rows(connection, [debtor_id])
        # An older call's late end never replaces a newer call's facts.
        connection.execute(update(DossierClaim).where(DossierClaim.debtor_id == debtor_id,
                                                      or_(DossierClaim.last_called_at.is_(None),
                                                          DossierClaim.last_called_at <= at))
                           .values(last_called_at=at, last_outcome=outcome, last_ended_at=ended_at))


def note_attempt(engine: Engine, attempt_id: int) -> bool:
    """Note a finished attempt on its dossier, whichever path placed it; False if it names no known debtor."""
    with engine.connect() as connection:
        row = connection.execute(select(Attempt.created_at, Attempt.outcome, Attempt.ended_at, Debtor.id)
                                 .join(Debtor, Debtor.ref == Attempt.debtor_ref)
                                 .where(Attempt.id == attempt_id)).first()
    if row is None:
        return False
    note_call(engine, row.id, at=row.created_at, outcome=row.outcome, ended_at=row.ended_at)
    return True


def live_claims(connection: Connection, debtor_ids: Sequence[int], now: datetime) -> dict[int, Claim]:
    """The claims on these dossiers that have not expired at `now`."""
    found: dict[int, Claim] = {}
    for chunk in _chunks(list(debtor_ids)):
        rows = connection.execute(select(DossierClaim.debtor_id, DossierClaim.agent, DossierClaim.expires_at)
                                  .where(_one_of(connection, DossierClaim.debtor_id, chunk),
                                         DossierClaim.expires_at > now))
        for debtor_id, agent, expires_at in rows:
            found[debtor_id] = Claim(debtor_id, agent, expires_at)
    return found


def _one_of(connection: Connection, column: Any, values: list[int]) -> Any:
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(Integer)))
    return column.in_(values)


def _ensure_rows(connection: Connection, ids: list[int]) -> None:
    """Make sure every dossier has its claim row (one statement, no rows back)."""
    if connection.dialect.name == "postgresql":
        # Look first, insert only what is missing: an INSERT … ON CONFLICT on a row another claimer is updating
        # would wait for that claimer to commit, and 20 agents would queue up behind each other.
        missing = connection.scalar(text(
            "SELECT array_agg(i) FROM unnest(CAST(:ids AS integer[])) AS i "
            "WHERE NOT EXISTS (SELECT 1 FROM dossier_claims c WHERE c.debtor_id = i)"), {"ids": ids})
        if missing:
            connection.execute(text("INSERT INTO dossier_claims (debtor_id) SELECT unnest(CAST(:ids AS integer[])) "
                                    "ON CONFLICT DO NOTHING"), {"ids": missing})
    else:
        connection.execute(sqlite_insert(DossierClaim).values([{"debtor_id": i} for i in ids])
                           .on_conflict_do_nothing())


def _chunks(items: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
