"""Calling blocks: weekly and one-off, holidays and weekends, DST, the database set, the clock that announces them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.blocks.block import (
    ONE_OFF,
    Block,
    BlockError,
    current_block,
    is_holiday,
    next_block,
    next_open_and_close,
    next_transitions,
    openings,
)
from dialer.blocks.model import (
    add_block,
    add_one_off,
    load_blocks,
    remove_block,
    replace_weekly,
)
from dialer.live.events import EventHub
from dialer.scheduling.blockclock import BlockClock, schedule_blocks
from dialer.settings.config import parse
from tests.conftest import run_cli
from tests.teamconfig import team_toml

AMS = "Europe/Amsterdam"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
MORNING = Block(days=WEEKDAYS, start=time(9, 30), end=time(11, 0))
AFTERNOON = Block(days=WEEKDAYS, start=time(14, 0), end=time(15, 0))
BLOCKS = [MORNING, AFTERNOON]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_inside_and_outside_a_block() -> None:
    # Tuesday 24 November 2026, CET (UTC+1): 09:30-11:00 local is 08:30-10:00 UTC
    now = utc(2026, 11, 24, 9, 0)
    block = current_block(BLOCKS, now, AMS, "NL")
    assert block is not None and block.block == MORNING
    assert (block.opens, block.closes) == (utc(2026, 11, 24, 8, 30), utc(2026, 11, 24, 10, 0))
    assert block.opens.tzinfo is UTC
    assert current_block(BLOCKS, utc(2026, 11, 24, 10, 0), AMS, "NL") is None  # the end is exclusive
    assert current_block(BLOCKS, utc(2026, 11, 24, 8, 30), AMS, "NL") is not None
    coming = next_block(BLOCKS, now, AMS, "NL")
    assert coming is not None and coming.block == AFTERNOON and coming.opens == utc(2026, 11, 24, 13, 0)


def test_weekend_skips_to_monday() -> None:
    saturday = utc(2026, 11, 28, 9, 0)
    assert current_block(BLOCKS, saturday, AMS, "NL") is None
    coming = next_block(BLOCKS, saturday, AMS, "NL")
    assert coming is not None and coming.opens == utc(2026, 11, 30, 8, 30)


def test_public_holidays_are_skipped_per_team_country() -> None:
    kings_day = utc(2026, 4, 27, 8, 0)  # Monday 27 April 2026, 10:00 CEST
    assert is_holiday(date(2026, 4, 27), "NL")
    assert current_block(BLOCKS, kings_day, AMS, "NL") is None
    assert current_block(BLOCKS, kings_day, AMS, "BE") is not None  # not a holiday in Belgium
    assert current_block(BLOCKS, kings_day, AMS, "") is not None
    coming = next_block(BLOCKS, kings_day, AMS, "NL")
    assert coming is not None and coming.opens == utc(2026, 4, 28, 7, 30)
    christmas = next_block(BLOCKS, utc(2026, 12, 24, 15, 0), AMS, "NL")  # Thu evening → Fri 25th is Christmas
    assert christmas is not None and christmas.opens == utc(2026, 12, 28, 8, 30)


def test_daylight_saving_time_moves_the_utc_times() -> None:
    # Europe/Amsterdam springs forward on Sunday 29 March 2026 (CET → CEST)
    friday = next_block([MORNING], utc(2026, 3, 27, 0, 0), AMS, "NL")
    monday = next_block([MORNING], utc(2026, 3, 28, 0, 0), AMS, "NL")
    assert friday is not None and friday.opens == utc(2026, 3, 27, 8, 30)
    assert monday is not None and monday.opens == utc(2026, 3, 30, 7, 30)
    assert monday.closes - monday.opens == timedelta(minutes=90)
    # back on Sunday 25 October 2026: a night block spanning the extra hour lasts an hour longer
    night = Block(days=("sat",), start=time(22, 0), end=time(6, 0))
    opening = next_block([night], utc(2026, 10, 24, 12, 0), AMS, "")
    assert opening is not None and opening.closes - opening.opens == timedelta(hours=9)


def test_a_debtor_team_in_another_zone() -> None:
    # A team in New York: 09:30 EST is 14:30 UTC
    block = next_block([MORNING], utc(2026, 11, 24, 12, 0), "America/New_York", "US")
    assert block is not None and block.opens == utc(2026, 11, 24, 14, 30)
    thanksgiving = next_block([MORNING], utc(2026, 11, 25, 16, 0), "America/New_York", "US")
    assert thanksgiving is not None and thanksgiving.opens == utc(2026, 11, 27, 14, 30)


def test_one_off_blocks_happen_on_their_date_even_on_a_holiday() -> None:
    extra = Block(days=(), start=time(10, 0), end=time(12, 0), kind=ONE_OFF, on=date(2026, 4, 27))
    assert extra.days == ("mon",)
    assert current_block([extra], utc(2026, 4, 27, 9, 0), AMS, "NL") is not None
    assert next_block([extra], utc(2026, 4, 28, 0, 0), AMS, "NL") is None  # past: never again
    with pytest.raises(BlockError):
        Block(days=(), start=time(10), end=time(12), kind=ONE_OFF)


def test_overnight_block_closes_the_next_day_and_is_open_after_midnight() -> None:
    late = Block(days=("mon",), start=time(22, 0), end=time(2, 0))
    assert late.overnight
    after_midnight = utc(2026, 11, 24, 0, 30)  # Tuesday 01:30 local
    block = current_block([late], after_midnight, AMS, "NL")
    assert block is not None and block.opens == utc(2026, 11, 23, 21, 0) and block.closes == utc(2026, 11, 24, 1, 0)
    whole_day = Block(days=("tue",), start=time(0, 0), end=time(0, 0))
    assert current_block([whole_day], utc(2026, 11, 24, 22, 59), AMS, "NL") is not None


def test_configured_blocks_are_accepted_as_they_are() -> None:
    cfg = parse('[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n'
                '[[blocks]]\ndays = ["mon"]\nstart = "09:30"\nend = "11:00"\n')
    block = current_block(cfg.blocks, utc(2026, 11, 23, 9, 0), AMS, "NL")
    assert block is not None and block.start == time(9, 30)


def test_next_open_and_close_of_an_open_block() -> None:
    now = utc(2026, 11, 24, 9, 0)
    opens, closes = next_open_and_close(MORNING, now, AMS, "NL")
    assert opens == utc(2026, 11, 25, 8, 30)  # it is open now: the next opening is tomorrow's
    assert closes == utc(2026, 11, 24, 10, 0)  # and it closes today
    opens, closes = next_open_and_close(AFTERNOON, now, AMS, "NL")
    assert (opens, closes) == (utc(2026, 11, 24, 13, 0), utc(2026, 11, 24, 14, 0))


def test_transitions_are_the_earliest_opening_or_closing() -> None:
    now = utc(2026, 11, 24, 9, 0)
    first = next_transitions(BLOCKS, now, AMS, "NL")
    assert [(t.event, t.at) for t in first] == [("close", utc(2026, 11, 24, 10, 0))]
    opening = next_transitions(BLOCKS, now, AMS, "NL", "open")
    assert [(t.event, t.at) for t in opening] == [("open", utc(2026, 11, 24, 13, 0))]
    adjoining = [MORNING, Block(days=WEEKDAYS, start=time(11, 0), end=time(12, 0))]
    both = next_transitions(adjoining, now, AMS, "NL")
    assert [t.event for t in both] == ["close", "open"]  # a block ending and the next starting
    assert next_transitions([], now, AMS, "NL") == []


def test_openings_are_in_order_and_naive_times_are_refused() -> None:
    found = list(openings(BLOCKS, since=utc(2026, 11, 27, 0, 0), tz=AMS, country="NL", days=7))
    assert [o.opens for o in found] == sorted(o.opens for o in found)
    assert found[0].opens == utc(2026, 11, 27, 8, 30)
    with pytest.raises(BlockError):
        current_block(BLOCKS, datetime(2026, 11, 24, 9, 0), AMS, "NL")


# -- the database set -----------------------------------------------------------------------------


def test_configured_blocks_are_the_default_and_a_saved_weekly_set_replaces_them(engine: Engine) -> None:
    now = utc(2026, 11, 24, 9, 0)
    with Session(engine) as session:
        assert load_blocks(session, BLOCKS) == BLOCKS
        extra = add_one_off(session, date(2026, 11, 28), "10:00", "12:00", by="sue", now=now)
        assert load_blocks(session, BLOCKS) == [*BLOCKS, extra]  # one-off blocks add to the weekly set
        evening = Block(days=("thu",), start=time(18, 0), end=time(20, 0))
        added = add_block(session, evening, configured=BLOCKS, by="sue", now=now)
        weekly = [b for b in load_blocks(session, BLOCKS) if b.kind == "weekly"]
        # the first saved weekly block copies the configured ones, so it adds to them
        assert [(b.days, b.start, b.end) for b in weekly] == [(b.days, b.start, b.end) for b in [*BLOCKS, evening]]
        assert all(b.source == "database" for b in weekly)
        assert remove_block(session, added.id) and not remove_block(session, added.id)
        replace_weekly(session, [evening], by="sue", now=now)
        assert [b.start for b in load_blocks(session, BLOCKS)] == [time(18, 0), time(10, 0)]
        replace_weekly(session, [], by="sue", now=now)  # nothing saved: the configuration again
        assert load_blocks(session, BLOCKS)[:2] == BLOCKS
        session.commit()
    with Session(engine) as session:
        saturday = current_block(load_blocks(session, BLOCKS), utc(2026, 11, 28, 9, 30), AMS, "NL")
        assert saturday is not None and saturday.kind == ONE_OFF and saturday.source == "database"


# -- the clock ----------------------------------------------------------------------------------------


class FakeScheduler:
    """Records date jobs the way APScheduler is asked for them."""

    def __init__(self) -> None:
        self.jobs: dict[str, tuple] = {}

    def add_job(self, func, trigger, *, args, id, **options) -> None:  # noqa: A002
        self.jobs[id] = (func, trigger.run_date, args, options)

    def remove_job(self, job_id: str) -> None:
        from apscheduler.jobstores.base import JobLookupError

        if self.jobs.pop(job_id, None) is None:
            raise JobLookupError(job_id)


async def test_clock_arms_the_next_opening_and_closing_and_rearms_after_firing() -> None:
    hub, scheduler = EventHub(), FakeScheduler()
    now = utc(2026, 11, 24, 9, 0)
    clock = BlockClock(scheduler, hub, BLOCKS, tz=AMS, country="NL", clock=lambda: now)  # type: ignore[arg-type]
    armed = clock.arm()
    assert armed == {"open": utc(2026, 11, 24, 13, 0), "close": utc(2026, 11, 24, 10, 0)}
    assert scheduler.jobs["belblok-blocks-close"][1] == utc(2026, 11, 24, 10, 0)
    assert scheduler.jobs["belblok-blocks-close"][3]["misfire_grace_time"] is None
    listener = hub.listen("*")
    now = utc(2026, 11, 24, 10, 0)
    fired = await clock.fire("close", utc(2026, 11, 24, 10, 0))
    assert [t.opening.block for t in fired] == [MORNING]
    event = listener.get_nowait()
    assert (event.kind, event.agent, event.detail["event"]) == ("block", "*", "close")
    assert event.detail["block"]["start"] == "2026-11-24T08:30:00+00:00"
    assert event.detail["block"]["end"] == "2026-11-24T10:00:00+00:00"
    assert clock.armed["close"] == utc(2026, 11, 24, 14, 0)  # re-armed: the afternoon block closes next
    assert scheduler.jobs["belblok-blocks-close"][1] == utc(2026, 11, 24, 14, 0)
    clock.stop()
    assert scheduler.jobs == {}


async def test_clock_with_no_blocks_arms_nothing() -> None:
    scheduler = FakeScheduler()
    clock = BlockClock(scheduler, EventHub(), [], tz=AMS, country="NL")  # type: ignore[arg-type]
    assert clock.arm() == {"open": None, "close": None}
    assert scheduler.jobs == {}


async def test_apscheduler_fires_a_block_opening_and_closing() -> None:
    # The one test on the wall clock: a block opening a second from now; it waits on the events, not a sleep.
    hub = EventHub()
    listener = hub.listen("*")
    start = datetime.now(UTC) + timedelta(seconds=1)
    end = start + timedelta(seconds=1)
    block = Block(days=(), start=start.time(), end=end.time(), kind=ONE_OFF, on=start.date())  # may pass midnight
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()
    try:
        schedule_blocks(scheduler, hub, lambda: [block], tz="UTC", country="")
        opened = await asyncio.wait_for(listener.get(), 10)
        closed = opened
        while closed.detail["event"] != "close":
            closed = await asyncio.wait_for(listener.get(), 10)
    finally:
        scheduler.shutdown(wait=False)
    assert (opened.kind, opened.detail["event"]) == ("block", "open")
    assert opened.at == start
    assert closed.at == end


# -- the command line ---------------------------------------------------------------------------------


def test_blocks_json(tmp_path: Path) -> None:
    cfg = tmp_path / "belblok.toml"
    cfg.write_text(team_toml(f"sqlite:///{tmp_path / 'belblok.db'}"))
    assert run_cli("--config", str(cfg), "db", "upgrade", cwd=tmp_path).returncode == 0
    proc = run_cli("--config", str(cfg), "blocks", "--json", "--at", "2026-11-24T10:00:00+01:00", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["current"]["start"] == "2026-11-24T08:30:00+00:00"
    assert out["current"]["end"] == "2026-11-24T10:00:00+00:00"
    first, second = out["blocks"]
    assert {k: first[k] for k in ("days", "start", "end", "kind")} == {
        "days": list(WEEKDAYS), "start": "09:30", "end": "11:00", "kind": "weekly"}
    assert (first["next_open"], first["next_close"]) == ("2026-11-25T08:30:00+00:00", "2026-11-24T10:00:00+00:00")
    assert (second["next_open"], second["next_close"]) == ("2026-11-24T13:00:00+00:00", "2026-11-24T14:00:00+00:00")
    proc = run_cli("--config", str(cfg), "blocks", "--json", "--at", "2026-04-27T10:00:00+02:00", cwd=tmp_path)
    out = json.loads(proc.stdout)
    assert out["current"] is None  # King's Day
    assert out["blocks"][0]["next_open"] == "2026-04-28T07:30:00+00:00"
    table = run_cli("--config", str(cfg), "blocks", cwd=tmp_path)
    assert table.returncode == 0 and "09:30–11:00" in table.stdout
