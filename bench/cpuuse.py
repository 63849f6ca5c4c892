"""CPU accounting from /proc for the benchmarks: one process, PostgreSQL's processes, the whole machine."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _seconds(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used."""
    return _seconds(Path(f"/proc/{pid}/stat").read_text())


def postgres_cpu(db_url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to the database of `db_url`."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")]
    used = {}
    for pid in pids:
        try:
            used[pid] = process_cpu(pid)
        except (OSError, IndexError):  # gone meanwhile
            continue
    return used


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two `postgres_cpu` readings (a backend that closed in between is not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / TICK, sum(ticks[:8]) / TICK
