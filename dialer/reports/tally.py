"""One stretch's raw figures per agent, counted from the call log, wrap-ups, agreements and state intervals."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, case, func, literal, or_, select, text, type_coerce
from sqlalchemy.engine import Connection

from ..calllog.attempt import Attempt
from ..dossiers.casework import Agreement
from ..dossiers.wrapups import WrapUpRecord
from ..live.floor import StateInterval
from ..storage.columns import UTCDateTime
from ..wrapup.outcomes import with_flag

# agent ('' for calls without one) → figure → value. The figures: placed, answered, contacts, right_party,
# promises, amount (cents promised in the calls), made (agreements the agent made), "s:<state>" seconds in a
# state and "p:<code>" seconds paused with a code ("p:none" without one). Plain data, so a day's can be kept.
Figures = dict[str, dict[str, float]]
CALL_FIGURES = ("placed", "answered", "contacts", "right_party", "promises", "amount")
# Every agent with a state interval, one index probe each (a loose index scan; SQLite and PostgreSQL alike).
AGENTS = text("""
    WITH RECURSIVE seen(agent) AS (
        SELECT min(agent) FROM agent_state_intervals
        UNION ALL
        SELECT (SELECT min(agent) FROM agent_state_intervals WHERE agent > seen.agent) FROM seen
        WHERE seen.agent IS NOT NULL)
    SELECT agent FROM seen WHERE agent IS NOT NULL""")


def cents(column: Any) -> Any:
    """A money column as its stored whole cents (so SUM adds integers on every database)."""
    return type_coerce(column, BigInteger)


def postgres(connection: Connection) -> bool:
    """Whether the connection is to PostgreSQL (else SQLite)."""
    return connection.dialect.name == "postgresql"


def without_jit(connection: Connection) -> None:
    """PostgreSQL without JIT compilation for this transaction: the reports' statements cost 0.1-2 s each, and
    compiling them added 0.6-1.6 s to every one."""
    if postgres(connection):
        connection.exec_driver_sql("SET LOCAL jit = off")


def add(into: Figures, more: Figures, agent: str | None = None) -> Figures:
    """`more` added into `into` (only `agent`'s figures when one is named); returns `into`."""
    for who, values in more.items():
        if agent is not None and who != agent:
            continue
        mine = into.setdefault(who, {})
        for key, value in values.items():
            mine[key] = mine.get(key, 0) + value
    return into


def count(connection: Connection, starts: datetime, ends: datetime, until: datetime) -> Figures:
    """The calls placed and agreements made in [starts, ends), and the state time in [starts, until)."""
    figures: Figures = defaultdict(dict, calls(connection, starts, ends))
    _made(connection, starts, ends, figures)
    _states(connection, starts, until, figures)
    return dict(figures)


def calls(connection: Connection, starts: datetime, ends: datetime) -> Figures:
    """The call figures (CALL_FIGURES) of the calls placed in [starts, ends)."""
    figures: Figures = defaultdict(dict)
    # Looked up per call (both by index): aggregating all wrap-ups and agreements first cost 2 s for one day.
    # One wrap-up per call counts, the last saved, so a corrected wrap-up does not count twice.
    outcome = (select(WrapUpRecord.outcome).where(WrapUpRecord.attempt_id == Attempt.id)
               .order_by(WrapUpRecord.id.desc()).limit(1).scalar_subquery())
    promised = (select(func.sum(cents(Agreement.amount))).where(Agreement.attempt_id == Attempt.id)
                .scalar_subquery())
    calls = (select(Attempt.agent.label("agent"), Attempt.answered_at.label("answered"),
                    outcome.label("outcome"), promised.label("amount"))
             .where(Attempt.direction == "out", Attempt.created_at >= starts, Attempt.created_at < ends)
             .subquery("calls"))

    def flagged(flag: str) -> Any:
        return func.sum(case((calls.c.outcome.in_(with_flag(flag)), 1), else_=0))

    query = (select(calls.c.agent, func.count(), func.count(calls.c.answered), flagged("contact"),
                    flagged("right_party"), flagged("promise"), func.sum(calls.c.amount))
             .group_by(calls.c.agent))
    for agent, *values in connection.execute(query):
        mine = figures[agent or ""]
        for key, value in zip(CALL_FIGURES, values, strict=True):
            mine[key] = int(value or 0)
    return dict(figures)


def _made(connection: Connection, starts: datetime, ends: datetime, figures: Figures) -> None:
    for agent, made in connection.execute(
            select(Agreement.agent, func.count(Agreement.id))
            .where(Agreement.created_at >= starts, Agreement.created_at < ends).group_by(Agreement.agent)):
        figures[agent or ""]["made"] = int(made)


def _seconds(connection: Connection, later: Any, earlier: Any) -> Any:
    """later − earlier in seconds, computed by the database (PostgreSQL or SQLite)."""
    if postgres(connection):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _states(connection: Connection, starts: datetime, until: datetime, figures: Figures) -> None:
    if until <= starts:
        return
    # The stretches begun in the window (by index), and per agent the one begun before it that may still run
    # into it: an agent's stretches follow one another, so only the last one begun before can.
    earlier = [connection.scalar(select(func.max(StateInterval.id)).where(
        StateInterval.agent == agent, StateInterval.started_at == select(func.max(StateInterval.started_at))
        .where(StateInterval.agent == agent, StateInterval.started_at < starts).scalar_subquery()))
        for agent in connection.scalars(AGENTS)]
    bound = literal(until, UTCDateTime())
    stop = (func.least if postgres(connection) else func.min)(func.coalesce(StateInterval.ended_at, bound), bound)
    begin = (func.greatest if postgres(connection) else func.max)(StateInterval.started_at,
                                                                  literal(starts, UTCDateTime()))
    within = (StateInterval.started_at >= starts) & (StateInterval.started_at < until)
    before = StateInterval.id.in_([i for i in earlier if i is not None])
    # Empty stretches are left out, as a pause code seen only in them would get a column of zeros.
    query = (select(StateInterval.agent, StateInterval.state, StateInterval.code,
                    func.sum(_seconds(connection, stop, begin)))
             .where(or_(within, before), StateInterval.state != "offline",
                    or_(StateInterval.ended_at.is_(None), StateInterval.ended_at > starts),
                    or_(StateInterval.ended_at.is_(None), StateInterval.ended_at > StateInterval.started_at))
             .group_by(StateInterval.agent, StateInterval.state, StateInterval.code))
    for agent, state, code, total in connection.execute(query):
        span = round(float(total), 3)  # SQLite's julian days carry float noise of microseconds
        mine = figures[agent]
        mine[f"s:{state}"] = mine.get(f"s:{state}", 0.0) + span
        if state == "paused":
            key = f"p:{code or 'none'}"
            mine[key] = mine.get(key, 0.0) + span
