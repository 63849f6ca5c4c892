"""How long the promise sweep stops the panel's event loop: with the collector paused, and without (baseline).

    .venv/bin/python bench/sweeppause.py --db postgresql://postgres@127.0.0.1:5433/belblok_bench

The generated data set has 20,000 open promises (bench/gen_dossiers.py). As the panel does every hour, a worker
thread runs `promises.sweep` (rolled back afterwards, so the data set stays as it is) while the event loop runs
a 1 ms ticker; the table shows the sweep's wall time, the loop's worst and 99th-percentile lateness and the full
collections that ran meanwhile. Each way runs --rounds times, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import panel  # noqa: E402  (bench/ is on sys.path as the script's folder)

TICK = 0.001


def _sweeper(db_url: str) -> Callable[[bool], float]:
    from dialer.core.heap import collector_paused
    from dialer.scheduling import promises
    from dialer.scheduling.rules import local_day
    from dialer.storage.database import make_engine, session_factory

    cfg = panel._config(db_url)
    sessions = session_factory(make_engine(db_url))

    def sweep(paused: bool) -> float:
        now = datetime.now(UTC)
        started = time.perf_counter()
        with collector_paused() if paused else contextlib.nullcontext(), sessions() as session:
            promises.sweep(session, local_day(now, ZoneInfo(cfg.team.timezone)), cfg, now=now)
            session.rollback()
        return time.perf_counter() - started

    return sweep


async def _round(sweep: Callable[[bool], float], paused: bool) -> tuple[float, float, float, list[float]]:
    """(sweep s, worst lateness ms, p99 lateness ms, full collections ms) of one sweep in a worker thread."""
    full: list[float] = []
    began = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                began[0] = time.perf_counter()
            else:
                full.append((time.perf_counter() - began[0]) * 1000)

    late: list[float] = []
    running = True

    async def ticker() -> None:
        while running:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            late.append((time.perf_counter() - asked - TICK) * 1000)

    gc.callbacks.append(watch)
    task = asyncio.create_task(ticker())
    try:
        took = await asyncio.to_thread(sweep, paused)
    finally:
        running = False
        await task
        gc.callbacks.remove(watch)
    late.sort()
    return took, late[-1], late[int(len(late) * 0.99)], full


async def run(args: argparse.Namespace) -> int:
    """Alternate the two ways and print a Markdown table."""
    sweep = _sweeper(args.db)
    sweep(True)  # warm-up: caches, plans
    print("| collector during the sweep | sweep s | loop late, worst ms | loop late, p99 ms | full collections (ms each) |")
    print("|---|---:|---:|---:|---|")
    for _ in range(args.rounds):
        for paused in (False, True):
            took, worst, p99, full = await _round(sweep, paused)
            label = "paused (`dialer.core.heap`)" if paused else "running (baseline)"
            shown = ", ".join(f"{ms:.0f}" for ms in full) or "none"
            print(f"| {label} | {took:.2f} | {worst:.1f} | {p99:.1f} | {len(full)}: {shown} |", flush=True)
    return 0


def main() -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=panel.DEFAULT_DB, help=f"the generated database (default {panel.DEFAULT_DB})")
    parser.add_argument("--rounds", type=int, default=2, help="sweeps each way")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
