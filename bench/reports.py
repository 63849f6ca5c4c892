"""Benchmark of the reports: each report over 1,000,000 debtors and 10,000,000 attempts, beside bare SQL.

    .venv/bin/python bench/pgcluster.py start
    .venv/bin/python bench/gen_dossiers.py --server postgresql://postgres@127.0.0.1:5433    # once, ~15 min
    .venv/bin/python bench/reports.py --db postgresql://postgres@127.0.0.1:5433/belblok_bench
    .venv/bin/python bench/reports.py --explain agents --period month                       # the plans

Each report (agents, outcomes, promises, ageing) runs as `belblok report` runs it (`dialer.reports.runner.report`,
one connection of a fresh engine) for a month (the last whole calendar month of the data) and for the whole range
of the data, --repeat times; median and max seconds; and the reports page's charts of outcomes and promises
(the report once per day, week or month of the period), once. Baseline in the same run: one hand-written PostgreSQL
statement per report computing the same team figures (psycopg, no ORM), timed the same way, and its figures
compared with the report's, so the two are known to count the same rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dialer.reports.metrics import KINDS  # noqa: E402
from dialer.reports.period import Period  # noqa: E402
from dialer.wrapup.outcomes import with_flag  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5433/belblok_bench"
TARGET_S = 2.0

# -- the bare statements: the team's figures of each report, as a person would write them for PostgreSQL ----------

OUTCOMES = """
SELECT count(*), count(a.answered_at),
       count(*) FILTER (WHERE w.outcome = ANY(%(contact)s)), count(*) FILTER (WHERE w.outcome = ANY(%(right)s)),
       count(*) FILTER (WHERE w.outcome = ANY(%(promise)s)), coalesce(sum(p.amount), 0)
FROM attempts a
LEFT JOIN (SELECT DISTINCT ON (attempt_id) attempt_id, outcome FROM wrapups
           WHERE attempt_id IS NOT NULL ORDER BY attempt_id, id DESC) w ON w.attempt_id = a.id
LEFT JOIN (SELECT attempt_id, sum(amount) AS amount FROM agreements WHERE attempt_id IS NOT NULL
           GROUP BY attempt_id) p ON p.attempt_id = a.id
WHERE a.direction = 'out' AND a.created_at >= %(starts)s AND a.created_at < %(ends)s"""

PROMISES = """
SELECT (SELECT count(*) FROM agreements WHERE created_at >= %(starts)s AND created_at < %(ends)s),
       (SELECT coalesce(sum(amount), 0) FROM agreements WHERE created_at >= %(starts)s AND created_at < %(ends)s),
       count(*), coalesce(sum(amount), 0), count(*) FILTER (WHERE paid >= amount), coalesce(sum(least(paid, amount)), 0)
FROM (SELECT g.id, g.amount, coalesce(sum(p.amount), 0) AS paid
      FROM agreements g
      LEFT JOIN payments p ON p.debtor_id = g.debtor_id AND p.date >= g.created_at::date
                          AND p.date <= g.due_date + %(grace)s AND (g.invoice_id IS NULL OR p.invoice_id = g.invoice_id)
      WHERE g.due_date BETWEEN %(first)s AND %(last)s AND g.status <> 'cancelled'
      GROUP BY g.id, g.amount) AS due"""

AGEING = """
WITH later AS (SELECT invoice_id, sum(amount) FILTER (WHERE date > %(before)s) AS since_start,
                      sum(amount) FILTER (WHERE date > %(last)s) AS since_end
               FROM payments WHERE invoice_id IS NOT NULL AND date > %(before)s GROUP BY invoice_id),
book AS (SELECT i.date, i.open_amount + coalesce(l.since_start, 0) AS at_start,
                i.open_amount + coalesce(l.since_end, 0) AS at_end
         FROM invoices i LEFT JOIN later l ON l.invoice_id = i.id)
SELECT count(*) FILTER (WHERE date <= %(before)s AND at_start > 0),
       coalesce(sum(at_start) FILTER (WHERE date <= %(before)s AND at_start > 0), 0),
       count(*) FILTER (WHERE date <= %(last)s AND at_end > 0),
       coalesce(sum(at_end) FILTER (WHERE date <= %(last)s AND at_end > 0), 0)
FROM book"""

AGENTS = """
SELECT (SELECT sum(extract(epoch FROM least(coalesce(ended_at, %(end)s), %(end)s) - greatest(started_at, %(starts)s)))
        FROM agent_state_intervals
        WHERE started_at < %(end)s AND (ended_at IS NULL OR ended_at > %(starts)s) AND state <> 'offline'),
       (SELECT count(*) FROM attempts WHERE direction = 'out' AND created_at >= %(starts)s AND created_at < %(ends)s
                                        AND agent IS NOT NULL),
       (SELECT count(*) FROM agreements WHERE created_at >= %(starts)s AND created_at < %(ends)s
                                          AND agent IS NOT NULL)"""


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # the columns hold naive UTC


def bare(kind: str, period: Period, now: datetime, grace: int) -> tuple[str, dict[str, Any]]:
    """The statement and parameters of `kind`'s baseline."""
    times = {"starts": _naive(period.starts), "ends": _naive(period.ends), "end": _naive(min(period.ends, now))}
    if kind == "outcomes":
        return OUTCOMES, {**times, "contact": list(with_flag("contact")), "right": list(with_flag("right_party")),
                          "promise": list(with_flag("promise"))}
    if kind == "promises":
        return PROMISES, {**times, "first": period.first, "last": period.last, "grace": grace}
    if kind == "ageing":
        return AGEING, {"before": period.first - timedelta(days=1), "last": period.last}
    return AGENTS, times


def team(kind: str, rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The report's team figures in the order of the bare statement's columns (amounts in cents)."""
    def cents(text: str) -> int:
        return int(Decimal(text) * 100)

    if kind == "outcomes":
        t = rows[-1]
        return (t["calls_placed"], t["calls_answered"], t["contacts"], t["right_party_contacts"], t["promises"],
                cents(t["amount_promised"]))
    if kind == "promises":
        t = rows[-1]
        return (t["promises_made"], cents(t["amount_promised"]), t["promises_due"], cents(t["amount_due"]),
                t["promises_kept"], cents(t["amount_received"]))
    if kind == "ageing":
        t = rows[-1]
        return (t["invoices_at_start"], cents(t["open_at_start"]), t["invoices_at_end"], cents(t["open_at_end"]))
    return (sum(r["logged_in_s"] for r in rows), sum(r["calls"] for r in rows), sum(r["promises"] for r in rows))


def _same(kind: str, ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> bool:
    if kind == "agents":  # the report rounds each agent's seconds
        return abs(ours[0] - float(theirs[0] or 0)) <= len(KINDS) * 50 and tuple(ours[1:]) == tuple(theirs[1:])
    return tuple(int(v) for v in ours) == tuple(int(v) for v in theirs)


# -- the run ------------------------------------------------------------------------------------------------------

def _timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def periods(db_url: str, zone: str) -> list[tuple[str, Period]]:
    """The last whole calendar month of the data, and the whole range of it (in the team's zone)."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        first, last = conn.execute("SELECT min(created_at), max(created_at) FROM attempts").fetchone()  # type: ignore[misc]
    first_day = first.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    last_day = last.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    month_end = last_day.replace(day=1) - timedelta(days=1)
    return [(f"month {month_end:%Y-%m}", Period(month_end.replace(day=1), month_end, zone)),
            (f"whole range {first_day}…{last_day}", Period(first_day, last_day, zone))]


def run(args: argparse.Namespace) -> int:
    """Every report for every period, with its baseline; a Markdown table."""
    import psycopg
    from panel import _config, _data_set

    from dialer.reports import figures
    from dialer.reports.runner import report
    from dialer.reports.trend import trend
    from dialer.storage.database import make_engine

    cfg = _config(args.db)
    zone, grace = cfg.team.timezone, cfg.reports.grace_days
    now = datetime.now(UTC)
    refs, buffers = _data_set(args.db)
    with psycopg.connect(args.db) as conn:
        attempts = conn.execute("SELECT count(*) FROM attempts").fetchone()[0]  # type: ignore[index]
        intervals = conn.execute("SELECT count(*) FROM agent_state_intervals").fetchone()[0]  # type: ignore[index]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    engine = make_engine(args.db)
    rows, slow = [], False
    try:
        # The day book from empty: what a first report over the data costs (then kept; nightly afterwards).
        with psycopg.connect(args.db) as conn:
            conn.execute("DELETE FROM report_days")
        whole = periods(args.db, zone)[-1][1]
        started = time.perf_counter()
        counted = len(figures.days(engine, whole, now))
        cold = time.perf_counter() - started
        print(f"day book from empty: {counted} days counted in {cold:.1f} s ({cold / counted:.2f} s a day)",
              flush=True)
        for label, period in periods(args.db, zone):
            if not label.startswith(tuple(args.periods)):
                continue
            for kind in args.kinds:
                ours, result = _timed(lambda: report(engine, cfg, kind, period, now=now), args.repeat)
                statement, params = bare(kind, period, now, grace)
                with psycopg.connect(args.db) as conn:
                    theirs, found = _timed(lambda: conn.execute(statement, params).fetchone(), args.repeat)
                same = _same(kind, team(kind, result), found)
                slow |= statistics.median(ours) > TARGET_S
                rows.append((kind, label, ours, theirs, same, len(result)))
                print(f"{kind}, {label}: report median {statistics.median(ours):.2f} s (max {max(ours):.2f}), "
                      f"bare SQL {statistics.median(theirs):.2f} s (max {max(theirs):.2f}); "
                      f"figures {'the same' if same else 'DIFFER'}: {team(kind, result)} / {tuple(found)}", flush=True)
            for kind in ("outcomes", "promises"):  # what the reports page's chart adds: the report per step
                ours, result = _timed(lambda: trend(engine, period, grace_days=grace, kind=kind, now=now),
                                      args.repeat)
                rows.append((f"{kind} chart (by {result['unit']})", label, ours, None, None, len(result["points"])))
                print(f"{kind} chart, {label}: median {statistics.median(ours):.2f} s (max {max(ours):.2f})",
                      flush=True)
    finally:
        engine.dispose()
    print()
    print(f"{refs:,} debtors, {attempts:,} attempts, {intervals:,} agent state intervals; {args.repeat} runs each; "
          f"{__import__('os').cpu_count()} cores; load average before: {' '.join(load_before)}; "
          f"PostgreSQL shared_buffers {buffers}; target ≤ {TARGET_S:g} s; day book from empty {cold:.1f} s "
          f"for {counted} days")
    print()
    print("| report | period | rows | report median s | max s | bare SQL median s | max s | same figures |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for kind, label, ours, theirs, same, count in rows:
        baseline = f"{statistics.median(theirs):.2f} | {max(theirs):.2f}" if theirs else "– | –"
        verdict = "–" if same is None else "yes" if same else "NO"
        print(f"| {kind} | {label} | {count} | **{statistics.median(ours):.2f}** | {max(ours):.2f} "
              f"| {baseline} | {verdict} |")
    return 1 if slow or any(r[4] is False for r in rows) else 0


def explain(args: argparse.Namespace) -> None:
    """EXPLAIN ANALYZE every statement one report sends."""
    from panel import _config
    from sqlalchemy import event

    from dialer.reports.runner import report
    from dialer.storage.database import make_engine

    cfg = _config(args.db)
    period = dict(periods(args.db, cfg.team.timezone))
    chosen = next(p for label, p in period.items() if label.startswith(args.period))
    engine = make_engine(args.db)
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    report(engine, cfg, args.explain, chosen, now=datetime.now(UTC))
    event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        cur.execute("SET jit = off")  # as metrics.reading reads
        for statement, parameters in captured[:6]:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            print(" ".join(statement.split())[:200])
            for (line,) in cur.fetchall():
                print("    " + line)
            print()
    engine.dispose()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the generated database (default {DEFAULT_DB})")
    parser.add_argument("--repeat", type=int, default=5, help="runs per report and period (default 5)")
    parser.add_argument("--kinds", nargs="*", choices=KINDS, default=list(KINDS))
    parser.add_argument("--periods", nargs="*", choices=("month", "whole"), default=["month", "whole"])
    parser.add_argument("--explain", choices=KINDS, help="EXPLAIN ANALYZE the statements of one report")
    parser.add_argument("--period", choices=("month", "whole"), default="month", help="the period of --explain")
    args = parser.parse_args()
    if args.explain:
        explain(args)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
