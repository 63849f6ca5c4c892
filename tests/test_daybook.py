"""The day book: closed days kept once counted, the same figures as counting afresh, forgotten when a call changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.journal import CallLog
from dialer.dossiers.parties import Debtor
from dialer.live import floor
from dialer.reports import figures
from dialer.reports.period import Period
from dialer.reports.runner import report
from dialer.settings.config import parse
from dialer.storage.database import session_factory
from dialer.storage.daybook import DayFigures
from dialer.wrapup.negotiation import NegotiationRoom
from dialer.wrapup.service import Team, WrapUp, record
from tests.dbfixtures import *  # noqa: F401,F403

ZONE = "Europe/Amsterdam"
WEEK = Period(date(2026, 3, 2), date(2026, 3, 8), ZONE)
AFTER = datetime(2026, 3, 10, 12, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def cfg(db_url: str):  # noqa: ANN201
    return parse(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                 f'[team]\ntimezone = "{ZONE}"\n')


def debtor(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        s.add(Debtor(ref="D1", name="Bakkerij Jansen", created_at=at(1, 8), updated_at=at(1, 8)))


def call(log: CallLog, when: datetime, *, answered: bool = True, agent: str = "anna") -> int:
    """A call through the call log, as the dialer places it."""
    attempt = log.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False, at=when,
                               agent=agent, debtor_ref="D1")
    if answered:
        log.mark_answered(attempt, when + timedelta(seconds=15))
    log.mark_ended(attempt, at=when + timedelta(minutes=2), outcome="answered" if answered else "no_answer",
                   sip_code=200 if answered else 480, sip_reason=None, sip_code_source="wire")
    return attempt


def wrap(engine: Engine, attempt: int, outcome: str, now: datetime, agent: str = "anna") -> None:
    """A wrap-up saved through the wrap-up service, as the panel saves it."""
    team = Team(name="Team", timezone=ZONE, room=NegotiationRoom())
    with Session(engine) as s, s.begin():
        record(s, WrapUp(debtor_ref="D1", outcome=outcome, attempt_id=attempt), agent=agent, team=team, now=now)


def kept(engine: Engine) -> set[date]:
    with Session(engine) as s:
        return set(s.scalars(select(DayFigures.day)))


def outcomes(db_url: str, engine: Engine, now: datetime = AFTER) -> dict:
    return {r["agent"]: r for r in report(engine, cfg(db_url), "outcomes", WEEK, now=now)}


def test_closed_days_are_kept_and_read_back_with_the_same_figures(db_url: str, engine: Engine) -> None:
    debtor(engine)
    log = CallLog(session_factory(engine))
    wrap(engine, call(log, at(2, 9)), "refused", at(2, 9, 3))
    call(log, at(3, 9), answered=False)
    wrap(engine, call(log, at(4, 9), agent="bert"), "wrong_number", at(4, 9, 3), agent="bert")
    first = outcomes(db_url, engine)
    assert kept(engine) == {date(2026, 3, d) for d in range(2, 9)}
    assert first["anna"]["calls_placed"] == 2 and first["anna"]["right_party_contacts"] == 1
    assert (first["bert"]["contacts"], first["bert"]["right_party_contacts"]) == (1, 0)
    assert outcomes(db_url, engine) == first  # read from the day book
    with Session(engine) as s, s.begin():
        s.query(DayFigures).delete()
    assert outcomes(db_url, engine) == first  # counted afresh


def test_a_day_is_kept_only_once_it_has_settled(db_url: str, engine: Engine) -> None:
    debtor(engine)
    call(CallLog(session_factory(engine)), at(8, 20))
    # Sunday 8 March ends at 23:00 UTC; half an hour later its last calls may still be wrapped up.
    assert outcomes(db_url, engine, now=at(8, 23, 30))["anna"]["calls_placed"] == 1
    assert date(2026, 3, 8) not in kept(engine) and date(2026, 3, 7) in kept(engine)
    outcomes(db_url, engine, now=at(9, 0, 30))
    assert date(2026, 3, 8) in kept(engine)


def test_a_wrap_up_saved_after_the_day_was_kept_counts(db_url: str, engine: Engine) -> None:
    debtor(engine)
    log = CallLog(session_factory(engine))
    attempt = call(log, at(2, 9))
    assert outcomes(db_url, engine)["anna"]["contacts"] == 0
    wrap(engine, attempt, "refused", at(9, 10))  # wrapped up a week later
    assert date(2026, 3, 2) not in kept(engine)
    after = outcomes(db_url, engine)["anna"]
    assert (after["contacts"], after["right_party_contacts"]) == (1, 1)
    wrap(engine, attempt, "wrong_number", at(9, 11))  # corrected: the last wrap-up counts
    corrected = outcomes(db_url, engine)["anna"]
    assert (corrected["contacts"], corrected["right_party_contacts"]) == (1, 0)


def test_an_answer_recorded_after_the_day_was_kept_counts(db_url: str, engine: Engine) -> None:
    debtor(engine)
    log = CallLog(session_factory(engine))
    attempt = log.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False,
                               at=at(5, 22, 55), agent="anna", debtor_ref="D1")
    assert outcomes(db_url, engine)["anna"]["calls_answered"] == 0
    log.mark_answered(attempt, AFTER)
    assert outcomes(db_url, engine)["anna"]["calls_answered"] == 1


def test_state_time_across_midnight_is_split_between_the_days(db_url: str, engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as s:  # 23:00 to 01:00 Amsterdam time, through the floor as the panel moves it
        floor.record(s, "anna", "ready", at(2, 22))
        floor.record(s, "anna", "paused", at(3, 0), code="lunch")
    days = figures.days(engine, WEEK, AFTER)
    assert days[date(2026, 3, 2)]["anna"]["s:ready"] == 3600.0
    assert days[date(2026, 3, 3)]["anna"]["s:ready"] == 3600.0
    assert days[date(2026, 3, 3)]["anna"]["p:lunch"] == 23 * 3600.0  # still paused: the rest of the day
    with sessions.begin() as s:
        floor.record(s, "anna", "ready", at(3, 1))
    assert date(2026, 3, 2) in kept(engine) and date(2026, 3, 3) not in kept(engine)  # Tuesday counted again
    assert figures.days(engine, WEEK, AFTER)[date(2026, 3, 2)]["anna"]["s:ready"] == 3600.0
    rows = {r["agent"]: r for r in report(engine, cfg(db_url), "agents", WEEK, now=AFTER)}
    assert rows["anna"]["pause_lunch_s"] == 3600


def test_another_time_zone_is_counted_afresh(db_url: str, engine: Engine) -> None:
    debtor(engine)
    call(CallLog(session_factory(engine)), at(2, 23, 30))  # Tuesday in Amsterdam, Monday in London
    assert outcomes(db_url, engine)["anna"]["calls_placed"] == 1
    london = Period(date(2026, 3, 2), date(2026, 3, 2), "Europe/London")
    assert figures.days(engine, london, AFTER)[date(2026, 3, 2)]["anna"]["placed"] == 1
    amsterdam = figures.days(engine, Period(date(2026, 3, 2), date(2026, 3, 2), ZONE), AFTER)
    assert amsterdam[date(2026, 3, 2)] == {}
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(DayFigures)) >= 1


def test_the_keeper_counts_each_night_the_days_not_yet_kept(db_url: str, engine: Engine) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from dialer.reports.keeping import CATCH_UP_DAYS, DayBookKeeper

    debtor(engine)
    call(CallLog(session_factory(engine)), at(8, 12))
    night = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)  # 01:30 in Amsterdam: Monday 9 March has settled
    scheduler = BackgroundScheduler(timezone=UTC)  # not started: the jobs are only planned
    keeper = DayBookKeeper(scheduler, engine, tz=ZONE, clock=lambda: night)
    assert {job.id for job in scheduler.get_jobs()} == {"day-book", "day-book-start"}
    assert keeper.run() == CATCH_UP_DAYS
    assert max(kept(engine)) == date(2026, 3, 9) and len(kept(engine)) == CATCH_UP_DAYS
    assert keeper.run() == 0  # nothing left to count
    with Session(engine) as s:
        sunday = s.get(DayFigures, date(2026, 3, 8))
        assert sunday is not None and sunday.figures["anna"]["placed"] == 1
