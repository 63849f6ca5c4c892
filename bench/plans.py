"""PostgreSQL's CPU per screen read under each plan-cache mode: why the read pool forces generic plans.

    .venv/bin/python bench/plans.py --db postgresql://postgres@127.0.0.1:5433/belblok_bench

Per statement the panel sends (the API's dossier, the agent screen's dossier with agenda) and per mode, one
connection reads --count random dossiers (after 200 to warm up); the backend's CPU comes from /proc, the client's from this process. `auto` is PostgreSQL's default (custom
plans for the first five executions, then generic if that looks as good), the others force one kind.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpuuse import process_cpu  # noqa: E402  (bench/ is on sys.path as the script's folder)

if TYPE_CHECKING:
    from web.readpool import Statement

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/belblok_bench"


def measure(db_url: str, statement: Statement, mode: str, count: int, debtors: int) -> tuple[float, float, float]:
    """(PostgreSQL CPU, client CPU, wall) in ms per execution of `statement` under plan_cache_mode `mode`."""
    import psycopg

    from dialer.dossiers.dossiersql import dossier_params

    day = date.today()
    with psycopg.connect(db_url, autocommit=True, prepare_threshold=0, cursor_factory=psycopg.RawCursor,
                         options=f"-c plan_cache_mode={mode}") as conn:  # as the read pool sends it
        pid = conn.info.backend_pid
        pick = random.Random(7)

        def read() -> None:
            ref = f"B{pick.randint(1, debtors):07d}"
            conn.execute(statement.sql, statement.args(dossier_params(ref, day))).fetchone()

        for _ in range(200):
            read()
        backend, client, wall = process_cpu(pid), time.process_time(), time.perf_counter()
        for _ in range(count):
            read()
        return ((process_cpu(pid) - backend) * 1000 / count, (time.process_time() - client) * 1000 / count,
                (time.perf_counter() - wall) * 1000 / count)


def main() -> int:
    """Print a Markdown table: one row per plan-cache mode."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the generated database (default {DEFAULT_DB})")
    parser.add_argument("--count", type=int, default=3000, help="dossiers per mode")
    args = parser.parse_args()
    import psycopg

    with psycopg.connect(args.db) as conn:
        debtors = int(conn.execute("SELECT max(id) FROM debtors").fetchone()[0])  # type: ignore[index]
    from web.screenreads import DOSSIER, SCREEN

    print("| statement | plan_cache_mode | PostgreSQL CPU ms/read | client CPU ms/read | wall ms/read |")
    print("|---|---|---:|---:|---:|")
    for label, statement in (("dossier (API)", DOSSIER), ("screen (page)", SCREEN)):
        for mode in ("auto", "force_generic_plan", "force_custom_plan"):
            backend, client, wall = measure(args.db, statement, mode, args.count, debtors)
            print(f"| {label} | {mode} | {backend:.2f} | {client:.2f} | {wall:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
