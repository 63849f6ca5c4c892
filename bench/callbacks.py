"""Benchmark: the call-back scheduler with 100,000 pending call-backs beside bare APScheduler date jobs.

    .venv/bin/python bench/callbacks.py [--n 100000] [--burst 2000] [--window 2] [--lead 10]
                                        [--db sqlite | postgresql://postgres@127.0.0.1:5432]

Each variant runs in its own process (so RSS is its own), in this order:

- belblok: `CallbackScheduler` on a database holding N pending call-backs (appointments of 50
  agents spread over 30 days, `burst` of them due within `window` s, `lead` s after the rows are
  written by another process, as `belblok serve` finds them after a restart). Rebuild = `await
  start()` (sweep, catch-up pass, next timer). Lateness = the moment the `callback_due` event
  is published minus the row's due time, for the burst.
- apscheduler: a bare `AsyncIOScheduler` with N date jobs doing nothing (the burst jobs note the
  time they run). Rebuild = adding the N jobs and starting; also timed: reading the N rows from
  the same database, which a one-job-per-row design has to do first.

Peak RSS is VmHWM of the variant's process. Prints a Markdown table and writes JSON to
bench/out/callbacks.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).with_name("out")
AGENTS = 50
DEBTORS = 1000
HORIZON = timedelta(days=30)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def config(url: str) -> Any:
    from dialer.settings.config import parse

    return parse(f'[database]\nurl = "{url}"\n[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n'
                 '[[blocks]]\ndays = ["mon","tue","wed","thu","fri"]\nstart = "09:30"\nend = "11:00"\n')


def fill(url: str, n: int, burst: int, window: float, lead: float) -> float:
    """Write N pending call-backs (the burst due `lead` s from now, spread over `window` s); return the burst start."""
    from sqlalchemy import insert

    from dialer.dossiers.callbacks import Callback
    from dialer.dossiers.parties import Debtor
    from dialer.storage.database import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert(Debtor), [{"ref": f"D-{i}", "name": f"Debtor {i}", "kind": "company",
                                             "country": "NL", "created_at": now, "updated_at": now}
                                            for i in range(1, DEBTORS + 1)])
    start = now + timedelta(seconds=lead)
    rows = []
    for i in range(n):
        if i < burst:
            due = start + timedelta(seconds=window * i / burst)
        else:  # the rest spread over the next 30 days, none before the burst
            due = start + timedelta(seconds=window + 60) + HORIZON * ((i * 7919) % n) / n
        rows.append({"debtor_id": 1 + i % DEBTORS, "kind": "appointment", "due_at": due, "status": "pending",
                     "agent": f"agent-{i % AGENTS}", "created_at": now})
    with engine.begin() as connection:
        for chunk in range(0, n, 10_000):
            connection.execute(insert(Callback), rows[chunk:chunk + 10_000])
    engine.dispose()
    return start.timestamp()


async def run_belblok(url: str, burst: int, window: float, lead: float, n: int,
                      burst_start: float) -> dict[str, Any]:
    """The scheduler as `belblok serve` runs it, on rows another process wrote."""
    from dialer.live.events import EventHub, LiveEvent
    from dialer.scheduling.scheduler import CallbackScheduler
    from dialer.storage.database import make_engine, session_factory

    seen: dict[int, float] = {}
    done = asyncio.Event()

    class Hub(EventHub):
        def publish(self, event: LiveEvent) -> None:
            if event.kind == "callback_due":
                seen[event.detail["callback_id"]] = time.time()
                if len(seen) >= burst:
                    done.set()
            super().publish(event)

    engine = make_engine(url)
    sched = CallbackScheduler(session_factory(engine), Hub(), config(url), node="bench", mailer=None)
    t0 = time.perf_counter()
    await sched.start()
    rebuild_s = time.perf_counter() - t0
    if time.time() > burst_start:
        raise SystemExit(f"the rebuild took past the burst's start: raise --lead above {lead}")
    await asyncio.wait_for(done.wait(), lead + window + 60)
    from sqlalchemy import select

    from dialer.dossiers.callbacks import Callback

    with session_factory(engine)() as session:
        due = dict(session.execute(select(Callback.id, Callback.due_at).where(Callback.id.in_(list(seen)))).all())
    await sched.stop()
    engine.dispose()
    late = [seen[i] - due[i].timestamp() for i in seen]
    return {"variant": "belblok", "n": n, "burst": burst, "rebuild_s": round(rebuild_s, 3), "fired": len(seen),
            "late_p50_s": round(percentile(late, 50), 4),
            "late_p99_s": round(percentile(late, 99), 4), "late_max_s": round(max(late), 4),
            "early": sum(1 for x in late if x < 0), "peak_rss_mb": round(peak_rss_mb(), 1)}


async def run_apscheduler(url: str, burst: int, window: float, lead: float, n: int,
                          burst_start: float) -> dict[str, Any]:
    """Bare APScheduler: one date job per call-back, as a one-job-per-row design would hold them."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy import select

    from dialer.dossiers.callbacks import Callback
    from dialer.storage.database import make_engine, session_factory

    engine = make_engine(url)
    t0 = time.perf_counter()
    with session_factory(engine)() as session:
        rows = session.execute(select(Callback.id, Callback.due_at).where(Callback.status == "pending")).all()
    read_s = time.perf_counter() - t0
    engine.dispose()
    now = datetime.now(UTC)
    start = now + timedelta(seconds=lead)
    late: list[float] = []
    done = asyncio.Event()

    def noop() -> None:
        pass

    def note(due: float) -> None:
        late.append(time.time() - due)
        if len(late) >= burst:
            done.set()

    scheduler = AsyncIOScheduler(timezone=UTC)
    t0 = time.perf_counter()
    for i in range(n):  # the same shape as the database: the burst first, the rest over 30 days
        if i < burst:
            due = start + timedelta(seconds=window * i / burst)
            scheduler.add_job(note, "date", run_date=due, args=[due.timestamp()], misfire_grace_time=None)
        else:
            due = start + timedelta(seconds=window + 60) + HORIZON * ((i * 7919) % n) / n
            scheduler.add_job(noop, "date", run_date=due, misfire_grace_time=None)
    scheduler.start()
    rebuild_s = time.perf_counter() - t0
    if time.time() > start.timestamp():
        raise SystemExit(f"adding the jobs took past the burst's start: raise --lead above {lead}")
    await asyncio.wait_for(done.wait(), lead + window + 60)
    scheduler.shutdown(wait=False)
    return {"variant": "apscheduler", "n": n, "burst": burst, "read_rows_s": round(read_s, 3), "rows": len(rows),
            "rebuild_s": round(rebuild_s, 3), "fired": len(late), "late_p50_s": round(percentile(late, 50), 4),
            "late_p99_s": round(percentile(late, 99), 4), "late_max_s": round(max(late), 4),
            "early": sum(1 for x in late if x < 0), "peak_rss_mb": round(peak_rss_mb(), 1)}


def child(args: argparse.Namespace) -> None:
    if args.variant == "fill":
        started = time.time()
        burst_start = fill(args.url, args.n, args.burst, args.window, args.lead)
        print(json.dumps({"burst_start": burst_start, "write_s": round(time.time() - started, 2)}))
        return
    runner = run_belblok if args.variant == "belblok" else run_apscheduler
    result = asyncio.run(runner(args.url, args.burst, args.window, args.lead, args.n, args.burst_start))
    print(json.dumps(result))


def database(kind: str) -> tuple[str, Any]:
    """A fresh database URL and a function that removes it."""
    if kind == "sqlite":
        OUT.mkdir(exist_ok=True)
        path = OUT / "callbacks.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: None
    import psycopg

    name = f"bench_callbacks_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{kind}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(f"{kind}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{kind}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=2_000)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--lead", type=float, default=10.0)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--variant", choices=("fill", "belblok", "apscheduler"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--burst-start", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        child(args)
        return
    url, drop = database(args.db)
    results = []
    burst_start = 0.0
    try:
        for variant in ("fill", "belblok", "apscheduler"):
            proc = subprocess.run([sys.executable, __file__, "--variant", variant, "--url", url, "--n", str(args.n),
                                   "--burst", str(args.burst), "--window", str(args.window), "--lead", str(args.lead),
                                   "--burst-start", str(burst_start)], capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(f"{variant} failed:\n{proc.stderr}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            if variant == "fill":
                burst_start = result["burst_start"]
            else:
                results.append(result)
    finally:
        drop()
    OUT.mkdir(exist_ok=True)
    (OUT / "callbacks.json").write_text(json.dumps({"db": args.db.split("://")[0], "results": results}, indent=2))
    print(f"database: {args.db.split('://')[0]}; {args.n} pending call-backs, burst of {args.burst} "
          f"due within {args.window} s\n")
    print("| variant | rebuild s | fired | late p50 s | p99 s | max s | early | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['variant']} | {r['rebuild_s']} | {r['fired']} | {r['late_p50_s']} | {r['late_p99_s']} | "
              f"{r['late_max_s']} | {r['early']} | {r['peak_rss_mb']} |")
    bare = results[1]
    print(f"\nA one-job-per-row design must also read the rows first: {bare['rows']} rows in "
          f"{bare['read_rows_s']} s before adding the jobs.")


if __name__ == "__main__":
    main()
