"""Benchmark: claiming the next dossier and one agent's queue among 1,000,000 dossiers in PostgreSQL.

    .venv/bin/python bench/gen_queue.py          # once: builds belblok_bench_queue (about 2 minutes)
    .venv/bin/python bench/queuebench.py [--claims 1000] [--queues 100]

Measures, on the database bench/gen_queue.py built, at its moment (a Tuesday 10:00, in a calling block):
- the baseline: a bare `SELECT … FOR UPDATE SKIP LOCKED LIMIT 1` + UPDATE on the same claim table;
- claiming the next dossier: `claims.claim_first` over the head of the queue (one agent, then 20 at once);
- one agent's queue: `QueueQuery.queue` (limit 50) on the materialised statistics;
- for contrast, the priority computed from the dossier tables on the fly (what the statistics save);
- keeping the statistics: `refresh_stats` for one debtor (an import or payment) and for all (nightly).
Targets: claim p99 ≤ 10 ms, queue p99 ≤ 50 ms. Prints a Markdown table and writes bench/out/queue.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from datetime import timedelta  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402


def _gen_queue() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_queue", HERE / "gen_queue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFIG = """
[sip]
trunk = "127.0.0.1:5060"
caller_id = "+31201234567"
[team]
country = "NL"
timezone = "Europe/Amsterdam"
[[blocks]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:30"
end = "11:00"
"""
AGENTS = 20
PREVIEW = 30  # a session claims among the first 30 entries of its queue (dialsession.PREVIEW_DEPTH)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def timed(action: Callable[[], Any]) -> float:
    """Milliseconds `action` took."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def row(what: str, samples: list[float], target: str = "") -> dict[str, Any]:
    """One line of the table."""
    return {"what": what, "runs": len(samples), "p50": percentile(samples, 50), "p95": percentile(samples, 95),
            "p99": percentile(samples, 99), "max": max(samples), "target": target}


def baseline(engine: Any, runs: int, now: Any, agents: int = 1) -> list[float]:
    """A bare SKIP LOCKED claim of any free row of the same table, and its release (by `agents` at once)."""
    from sqlalchemy import text

    def once() -> None:
        with engine.begin() as conn:
            chosen = conn.execute(text("SELECT debtor_id FROM dossier_claims WHERE expires_at IS NULL "
                                       "LIMIT 1 FOR UPDATE SKIP LOCKED")).scalar()
            conn.execute(text("UPDATE dossier_claims SET agent = 'base', claimed_at = :now, expires_at = :until "
                              "WHERE debtor_id = :id"), {"now": now.replace(tzinfo=None),
                                                         "until": (now + timedelta(minutes=15)).replace(tzinfo=None),
                                                         "id": chosen})
        with engine.begin() as conn:
            conn.execute(text("UPDATE dossier_claims SET agent = NULL, claimed_at = NULL, expires_at = NULL "
                              "WHERE debtor_id = :id"), {"id": chosen})

    samples: list[float] = []
    start = threading.Barrier(agents)

    def agent() -> None:
        start.wait()
        for _ in range(runs // agents):
            samples.append(timed(once))  # list.append is atomic

    with ThreadPoolExecutor(agents) as pool:
        for future in [pool.submit(agent) for _ in range(agents)]:
            future.result()
    return samples


def claims_sequential(engine: Any, head: list[int], runs: int, now: Any) -> list[float]:
    """One agent claims the head of its queue and gives it back, `runs` times."""
    from dialer.queue.claims import claim_first, release

    samples = []
    for _ in range(runs):
        chosen: list[int | None] = []
        samples.append(timed(lambda: chosen.append(
            claim_first(engine, "agent00", head, now=now, minutes=15))))
        assert chosen[0] is not None
        release(engine, chosen[0], "agent00")
    return samples


def claims_concurrent(engine: Any, head: list[int], rounds: int, now: Any) -> tuple[list[float], int]:
    """20 agents work the same head at once: claim, "call", release, `rounds` times each; (latencies, calls)."""
    from dialer.queue.claims import claim_first, release

    samples: list[float] = []
    holding: dict[int, str] = {}
    overlaps: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(AGENTS)

    def agent(name: str) -> None:
        start.wait()
        for _ in range(rounds):
            chosen: list[int | None] = []
            ms = timed(lambda: chosen.append(claim_first(engine, name, head, now=now, minutes=15)))
            got = chosen[0]
            with guard:
                samples.append(ms)
                if got is None:
                    continue
                if got in holding:
                    overlaps.append(f"{name} and {holding[got]} both hold {got}")
                holding[got] = name
            with guard:
                del holding[got]
            release(engine, got, name)

    with ThreadPoolExecutor(AGENTS) as pool:
        for future in [pool.submit(agent, f"agent{n:02}") for n in range(AGENTS)]:
            future.result()
    assert overlaps == [], overlaps
    return samples, len(samples)


def main() -> None:
    """Run the measurements and print the table."""
    from sqlalchemy import create_engine, select, text

    from dialer.dossiers.stats import stats_select
    from dialer.queue.query import QueueQuery
    from dialer.settings.config import parse

    gen_queue = _gen_queue()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"{gen_queue.SERVER}/{gen_queue.DATABASE}")
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=100)
    args = parser.parse_args()
    # as make_engine (pre-ping on checkout), with a connection per agent
    engine = create_engine(args.url.replace("postgresql://", "postgresql+psycopg://"), pool_size=AGENTS + 4,
                           pool_pre_ping=True)
    cfg = parse(CONFIG)
    query = QueueQuery(cfg, engine)
    now = gen_queue.NOW
    with engine.connect() as conn:
        debtors = conn.execute(text("SELECT count(*) FROM debtors")).scalar_one()
    with engine.begin() as conn:  # every dossier has been claimed once before: the steady state of the claim table
        conn.execute(text("INSERT INTO dossier_claims (debtor_id) SELECT id FROM debtors ON CONFLICT DO NOTHING"))
        conn.execute(text("UPDATE dossier_claims SET agent = NULL, claimed_at = NULL, expires_at = NULL "
                          "WHERE agent IS NOT NULL"))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE dossier_claims"))
    print(f"{debtors:,} debtors in {args.url}; now = {now.isoformat()}", flush=True)

    rows = []
    query.queue("agent00", now, limit=50)  # warm the caches once, as a running coordinator has them
    samples = [timed(lambda: query.queue("agent00", now, limit=50)) for _ in range(args.queues)]
    rows.append(row("one agent's queue (QueueQuery.queue, 50 entries, statistics)", samples, "p99 ≤ 50 ms"))
    samples = [timed(lambda: query.queue("agent00", now, limit=200)) for _ in range(max(args.queues // 5, 5))]
    rows.append(row("one agent's queue, 200 entries", samples))
    queue = query.queue("agent00", now, limit=200)
    head = [e.debtor_id for e in queue.entries]
    kinds = {k: sum(1 for e in queue.entries if e.kind == k) for k in ("callback", "return", "follow_up", "retry",
                                                                       "new")}
    print(f"queue head: {len(head)} entries {kinds}, {len(queue.excluded)} excluded on the way", flush=True)

    rows.append(row("baseline: bare SELECT … FOR UPDATE SKIP LOCKED LIMIT 1 + UPDATE (+ release)",
                    baseline(engine, args.claims, now)))
    rows.append(row(f"baseline, {AGENTS} agents at once", baseline(engine, args.claims, now, AGENTS)))
    rows.append(row(f"claim the next dossier (claims.claim_first over the queue's first {PREVIEW}, 1 agent)",
                    claims_sequential(engine, head[:PREVIEW], args.claims, now), "p99 ≤ 10 ms"))
    concurrent, _ = claims_concurrent(engine, head[:PREVIEW], args.claims // AGENTS, now)
    rows.append(row(f"claim the next dossier, {AGENTS} agents at once on the same head (claim, release)", concurrent,
                    "p99 ≤ 10 ms"))

    with engine.connect() as conn:
        live = stats_select("postgresql", gen_queue.ANCHOR, now).subquery("s")
        top = select(live.c.debtor_id).where(live.c.eligible.is_(True), live.c.min_due < gen_queue.ANCHOR) \
            .order_by(live.c.boost.desc(), live.c.repeat_late.desc(), live.c.rank.desc()).limit(50)
        rows.append(row("contrast: the 50 best computed from the dossier tables (no statistics)",
                        [timed(lambda: conn.execute(top).all())]))
    day = gen_queue.ANCHOR
    one = [timed(lambda: _refresh(engine, day, now, [1 + (n * 7919) % debtors])) for n in range(200)]
    rows.append(row("refresh_stats for one debtor (after an import or a payment)", one))
    rows.append(row("refresh_stats for all debtors (nightly)", [timed(lambda: _refresh(engine, day, now, None))]))

    print()
    print("| measurement | runs | p50 ms | p95 ms | p99 ms | max ms | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['what']} | {r['runs']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | {r['max']:.2f} | "
              f"{r['target']} |")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "queue.json").write_text(json.dumps({"debtors": debtors, "rows": rows}, indent=1))
    engine.dispose()


def _refresh(engine: Any, day: Any, now: Any, ids: list[int] | None) -> None:
    from dialer.dossiers.stats import refresh_stats

    with engine.begin() as conn:
        refresh_stats(conn, day, now, ids)


if __name__ == "__main__":
    main()
