"""The nightly refresh of the dossier statistics: armed for just after local midnight, and it recomputes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.engine import Engine

from dialer.dossiers.ledger import Invoice
from dialer.dossiers.stats import DossierStats
from dialer.scheduling.statsclock import StatsClock, refresh_all
from dialer.storage.database import session_factory
from tests.test_scheduler import add_debtor

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 16:00 in Amsterdam


def stats(engine: Engine) -> DossierStats:
    with session_factory(engine)() as session:
        return session.scalars(select(DossierStats)).one()


def test_the_job_fires_just_after_midnight_in_the_teams_zone(engine: Engine) -> None:
    scheduler = BackgroundScheduler(timezone=UTC)  # never started: only the trigger is asked
    job = StatsClock(scheduler, engine, tz="Europe/Amsterdam", clock=lambda: NOW).job
    fire = job.trigger.get_next_fire_time(None, NOW)
    assert fire.astimezone(UTC) == datetime(2026, 3, 2, 23, 10, tzinfo=UTC)  # 00:10 CET on 3 March


def test_a_run_recomputes_days_overdue_as_the_days_pass(engine: Engine) -> None:
    sessions = session_factory(engine)
    debtor_id = add_debtor(sessions)
    with sessions.begin() as session:
        session.add(Invoice(debtor_id=debtor_id, number="F-1", date=date(2026, 1, 1), due_date=date(2026, 2, 1),
                            amount=Decimal("100.00"), open_amount=Decimal("100.00")))
    assert refresh_all(engine, date(2026, 3, 2), NOW) == 1
    assert (stats(engine).max_days, stats(engine).stats_day) == (29, date(2026, 3, 2))
    tomorrow = NOW + timedelta(days=1)
    clock = StatsClock(BackgroundScheduler(timezone=UTC), engine, tz="Europe/Amsterdam", clock=lambda: tomorrow)
    assert clock.run() == 1
    assert (stats(engine).max_days, stats(engine).stats_day) == (30, date(2026, 3, 3))


def test_a_failing_refresh_is_logged_and_the_job_survives(engine: Engine, caplog) -> None:
    engine.dispose()
    broken = StatsClock(BackgroundScheduler(timezone=UTC), engine, tz="Europe/Amsterdam", clock=lambda: "not a time")
    assert broken.run() == 0  # type: ignore[arg-type]
    assert "nightly refresh of the dossier statistics failed" in caplog.text
