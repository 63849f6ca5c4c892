"""Reading the queue from the database at the moment it is asked: candidates tier by tier, then their facts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.orm import Session, aliased

from ..blocks.block import Opening, current_block
from ..blocks.model import load_blocks
from ..calllog.attempt import Attempt
from ..dossiers.callbacks import Callback
from ..dossiers.dossier import UnknownDebtor
from ..dossiers.parties import Debtor
from ..dossiers.stats import DossierStats, stats_select
from ..settings.config import Config
from ..storage.columns import UTCDateTime
from .claimmodel import DossierClaim
from .facts import DossierFacts, QueueRules
from .load import load_facts
from .order import KINDS, Entry, Exclusion, Queue, assemble, evaluate
from .retry import ALIASES, ANONYMITY_REJECTED, RETRIED

LIVE_LIMIT = 5000  # up to this many debtors the queue reads the dossier tables themselves
RETRY_LOOKBACK = timedelta(days=7)  # a failed call older than this is not retried, the dossier is called anew
CANDIDATES = 500  # at most this many due call-backs, expired promises or due retries per query
FLAGGED_SHOWN = 10  # dossiers flagged (do not call, no number, …) reported per query in stats mode
MAX_PAGES = 8
OPEN_CALLBACKS = ("pending", "claimed")

Verdicts = dict[int, Entry | Exclusion | None]


@dataclass(frozen=True)
class QueueQuery:
    """The queue of the team configured in `cfg`, read through `engine`."""

    cfg: Config
    engine: Engine
    mode: str = "auto"  # auto | live (the dossier tables) | stats (the materialised dossier_stats)
    page: int = 25  # candidates are read at least this many at a time

    def rules(self, agent: str, now: datetime) -> QueueRules:
        """The team's queue settings for `agent`."""
        return QueueRules(agent=agent, team_tz=self.cfg.team.timezone, min_amount=self.cfg.queue.min_amount,
                          retry_rule=self.cfg.retry_rule, withhold_after=self.cfg.caller_id.withhold_after_no_answers,
                          grace=timedelta(minutes=self.cfg.callbacks.grace_minutes))

    def today(self, now: datetime) -> date:
        """The team's date at `now`."""
        return now.astimezone(ZoneInfo(self.cfg.team.timezone)).date()

    def block(self, connection: Connection, now: datetime) -> Opening | None:
        """The calling block open at `now`, if any."""
        with Session(bind=connection) as session:
            blocks = load_blocks(session, self.cfg.blocks)
        return current_block(blocks, now, self.cfg.team.timezone, self.cfg.team.country)

    def queue(self, agent: str, now: datetime, *, limit: int = 100) -> Queue:
        """The agent's queue at `now`: at most `limit` entries, and the dossiers excluded on the way there."""
        rules, today = self.rules(agent, now), self.today(now)
        verdicts: Verdicts = {}
        with self.engine.connect() as connection:
            block = self.block(connection, now)
            live = self._live(connection)
            page = max(limit, self.page)
            batch: list[int] = [] if live else self._flagged(connection, today)  # reported, weighed with the rest
            for ids, bound in self._candidates(connection, now, today, live, page):
                batch += ids
                if len(batch) < page + FLAGGED_SHOWN:
                    continue  # fewer, larger loads: a load costs about a dozen queries whatever its size
                self._weigh(connection, verdicts, batch, rules, now)
                batch = []
                # Every later candidate sorts at or after `bound`: once `limit` entries sort before it, stop.
                if sum(1 for v in verdicts.values() if isinstance(v, Entry) and v.sort_key < bound) >= limit:
                    break
            self._weigh(connection, verdicts, batch, rules, now)
        return assemble(verdicts.values(), agent, now, block=block, limit=limit)

    def dossier(self, ref: str, agent: str, now: datetime) -> tuple[DossierFacts, Entry | Exclusion | None]:
        """One dossier's facts and its verdict at `now` (UnknownDebtor if there is no such debtor)."""
        with self.engine.connect() as connection:
            debtor_id = connection.scalar(select(Debtor.id).where(Debtor.ref == ref))
            if debtor_id is None:
                raise UnknownDebtor(ref)
            (facts,) = load_facts(connection, [debtor_id], now=now, today=self.today(now), cfg=self.cfg)
        return facts, evaluate(facts, self.rules(agent, now), now)

    def _live(self, connection: Connection) -> bool:
        if self.mode != "auto":
            return self.mode == "live"
        if (connection.scalar(select(func.max(Debtor.id))) or 0) <= LIVE_LIMIT:
            return True
        return connection.scalar(select(DossierStats.debtor_id).limit(1)) is None

    def _source(self, connection: Connection, today: date, now: datetime, live: bool) -> Any:
        if live:
            return stats_select(connection.dialect.name, today, now).subquery("s")
        return DossierStats.__table__

    def _candidates(self, connection: Connection, now: datetime, today: date, live: bool,
                    page: int) -> Iterator[tuple[list[int], tuple[Any, ...]]]:
        """Pages of dossier ids in queue order, each with a bound no entry of a later page sorts before.

        Due call-backs, then expired promises by due date, then due retries, then the rest best first.
        """
        yield list(connection.scalars(
            select(Callback.debtor_id).where(Callback.status.in_(OPEN_CALLBACKS), Callback.due_at <= now)
            .order_by(Callback.due_at, Callback.id).limit(CANDIDATES))), (KINDS.index("follow_up"),)
        s = self._source(connection, today, now, live)
        zone = ZoneInfo(self.cfg.team.timezone)
        promised = select(s.c.debtor_id, s.c.promise_due, s.c.rank).where(s.c.promise_due < today) \
            .order_by(s.c.promise_due, s.c.rank.desc(), s.c.debtor_id)
        for rows in _pages(connection, promised, page, CANDIDATES):
            last = rows[-1]  # its follow-up is due from the start of the day after the promised date
            yield [r.debtor_id for r in rows], (KINDS.index("follow_up"),
                                                _midnight(last.promise_due + timedelta(days=1), zone), -last.rank)
        yield from self._retries(connection, now, live, page)
        ranked = select(s.c.debtor_id, s.c.boost, s.c.repeat_late, s.c.rank).where(s.c.min_due < today)
        if not live:
            ranked = ranked.where(s.c.eligible.is_(True))
        ranked = ranked.order_by(s.c.boost.desc(), s.c.repeat_late.desc(), s.c.rank.desc(), s.c.debtor_id.desc())
        for rows in _pages(connection, ranked, page, page * MAX_PAGES):
            last = rows[-1]  # the statistics order first calls as the queue does (fresh statistics: exactly)
            yield [r.debtor_id for r in rows], (KINDS.index("new"), -last.boost, 0 if last.repeat_late else 1,
                                                -last.rank)

    def _flagged(self, connection: Connection, today: date) -> list[int]:
        """The weightiest dossiers the statistics mark as not callable, to be reported as excluded."""
        s = DossierStats.__table__
        return list(connection.scalars(
            select(s.c.debtor_id).where(s.c.eligible.is_(False), s.c.min_due < today)
            .order_by(s.c.boost.desc(), s.c.repeat_late.desc(), s.c.rank.desc(), s.c.debtor_id.desc())
            .limit(FLAGGED_SHOWN)))

    def _retries(self, connection: Connection, now: datetime, live: bool,
                 page: int) -> Iterator[tuple[list[int], tuple[Any, ...]]]:
        """Dossiers whose last call in the last week failed in a retried way and waited out its delay."""
        waits = {outcome: self._delay(outcome) for outcome in (*RETRIED, *ALIASES, ANONYMITY_REJECTED)}
        shortest = min(waits.values())
        if live:  # the call log itself: every call counts, whoever placed it
            later = aliased(Attempt)
            ready = case({o: literal(now - w, UTCDateTime) for o, w in waits.items()}, value=Attempt.outcome)
            due = (select(Debtor.id, Attempt.ended_at.label("ended")).join(Debtor, Debtor.ref == Attempt.debtor_ref)
                   .where(Attempt.created_at >= now - RETRY_LOOKBACK, Attempt.created_at <= now,
                          Attempt.outcome.in_(list(waits)), Attempt.ended_at <= ready,
                          ~select(later.id).where(later.debtor_ref == Attempt.debtor_ref,
                                                  later.created_at > Attempt.created_at, later.created_at <= now)
                          .exists())
                   .order_by(Attempt.ended_at, Debtor.id))
        else:  # each dossier's last call as the dialer noted it, on an index (a million dossiers, years of calls)
            c = DossierClaim
            ready = case({o: literal(now - w, UTCDateTime) for o, w in waits.items()}, value=c.last_outcome)
            due = (select(c.debtor_id.label("id"), c.last_ended_at.label("ended"))
                   .where(c.last_ended_at >= now - RETRY_LOOKBACK, c.last_ended_at <= ready,
                          c.last_outcome.in_(list(waits)), c.last_called_at <= now)
                   .order_by(c.last_ended_at, c.debtor_id))
        for rows in _pages(connection, due, page, CANDIDATES):
            # a later page's calls ended later, so its retries fall due no earlier than this
            yield [r.id for r in rows], (KINDS.index("retry"), rows[-1].ended + shortest)
        yield [], (KINDS.index("new"),)

    def _delay(self, outcome: str) -> timedelta:
        rule = None if outcome == ANONYMITY_REJECTED else self.cfg.retry_rule(ALIASES.get(outcome, outcome))
        return timedelta(minutes=rule.delay_minutes if rule else 0)

    def _weigh(self, connection: Connection, verdicts: Verdicts, ids: Sequence[int], rules: QueueRules,
               now: datetime) -> None:
        wanted = [i for i in dict.fromkeys(ids) if i not in verdicts]
        for facts in load_facts(connection, wanted, now=now, today=self.today(now), cfg=self.cfg):
            verdicts[facts.id] = evaluate(facts, rules, now)


def _pages(connection: Connection, query: Select[Any], size: int, most: int) -> Iterator[list[Row[Any]]]:
    for offset in range(0, most, size):
        rows = list(connection.execute(query.offset(offset).limit(size)))
        if rows:
            yield rows
        if len(rows) < size:
            return


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
