"""The hourly promise sweep in a child process: the same settlement as in the panel's process, and a fallback."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.scheduling import sweeper
from dialer.settings.config import Config
from dialer.storage.database import make_engine
from tests.test_promises import MONDAY_START, follow_ups, promise, status
from tests.test_scheduler import (
    Clock,
    RecordingHub,
    add_debtor,
    make_cfg,
    scheduler_for,
)


@pytest.fixture
def cfg() -> Config:
    return make_cfg()


async def test_a_sweep_in_a_child_process_breaks_an_unpaid_promise_there(engine: Engine,
                                                                         sessions: sessionmaker[Session],
                                                                         cfg: Config) -> None:
    agreement = promise(sessions, cfg, add_debtor(sessions))
    now = MONDAY_START + timedelta(minutes=5)
    changed, pid = await sweeper.sweep_apart(engine, now.date(), cfg, now=now)
    assert pid != os.getpid()
    assert changed == [agreement]
    assert status(sessions, agreement) == "broken"
    assert [state for state, _due in follow_ups(sessions, agreement)] == ["pending"]
    again, _ = await sweeper.sweep_apart(engine, now.date(), cfg, now=now)  # idempotent, as in the panel
    assert again == []


async def test_the_hourly_job_sweeps_apart_and_announces_the_follow_up(engine: Engine,
                                                                       sessions: sessionmaker[Session],
                                                                       cfg: Config,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    agreement = promise(sessions, cfg, add_debtor(sessions))
    hub = RecordingHub()
    sched = scheduler_for(sessions, hub, Clock(MONDAY_START + timedelta(minutes=5)), AsyncIOScheduler(timezone=UTC),
                          cfg=cfg)
    with caplog.at_level(logging.DEBUG, logger="dialer.scheduling.scheduler"):
        await sched._sweep_job()
    assert status(sessions, agreement) == "broken"
    [event] = hub.published
    assert (event.kind, event.detail["kind"], event.detail["agreement_id"]) == ("callback_due", "follow_up", agreement)
    assert "promise sweep ran in process" in caplog.text
    await sched.stop()


async def test_a_failing_child_is_reported_and_the_sweep_runs_in_the_panel_instead(
        engine: Engine, sessions: sessionmaker[Session], cfg: Config, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    agreement = promise(sessions, cfg, add_debtor(sessions))
    monkeypatch.setattr(sweeper, "COMMAND", (sys.executable, "-c", "import sys; sys.exit('database on fire')"))
    sched = scheduler_for(sessions, RecordingHub(), Clock(MONDAY_START + timedelta(minutes=5)),
                          AsyncIOScheduler(timezone=UTC), cfg=cfg)
    with caplog.at_level(logging.WARNING, logger="dialer.scheduling.scheduler"):
        changed = await sched.sweep(apart=True)
    assert changed == [agreement] and status(sessions, agreement) == "broken"
    assert "exited with 1: database on fire" in caplog.text and "instead" in caplog.text
    await sched.stop()


def test_only_a_database_another_process_can_open_is_swept_apart(tmp_path: Path) -> None:
    for url, expected in ((f"sqlite:///{tmp_path / 'a.db'}", True), ("sqlite://", False),
                          ("sqlite:///:memory:", False), ("postgresql://postgres@127.0.0.1/x", True)):
        engine = make_engine(url)
        try:
            assert sweeper.shareable(engine) is expected, url
        finally:
            engine.dispose()
