"""Benchmark of the agent screen: GET /api/v1/debtors/{ref} and /dossiers/{ref} under 50 concurrent clients.

    .venv/bin/python bench/pgcluster.py start      # a PostgreSQL sized like a database server (bench/pgcluster.py)
    .venv/bin/python bench/gen_dossiers.py --server postgresql://postgres@127.0.0.1:5433   # once, ~6 min
    .venv/bin/python bench/panel.py --db postgresql://postgres@127.0.0.1:5433/belblok_bench
    # without --server / --db both use the machine's PostgreSQL on 5432; wrk comes with scripts/setup.sh

Each kind of server runs in its own process on 127.0.0.1; the API and the page share the panel's, made by
`create_app` as `belblok serve` makes it (the bench database is first migrated to this checkout). The load:
--connections closed-loop connections for --seconds after a --warmup (wrk, pinned to the last core; or a
pure-Python client in its own pinned process), the pessimistic reading. Then, for the app's routes, the
realistic one: --agents agents each opening a dossier, reading it 1-3 s, opening the next. The API is asked
with a bearer token, the page with a login session's cookie, as an agent's browser does. Baselines in the same
run: a bare aiohttp handler returning a fixed JSON, and a bare psycopg query (the debtor row by reference)
behind a bare aiohttp handler. Beside latency the table shows the server's and PostgreSQL's CPU per request,
how busy the machine was and the client's share of a core, read from /proc, so a CPU-hungry client cannot hide.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402  (bench/ is on sys.path as the script's folder)
from cpuuse import machine_busy, postgres_cpu, process_cpu, spent  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/belblok_bench"
TARGET_P99_MS = 100.0
IDLE_SECONDS = 5


# -- the servers (each run as `python bench/panel.py --serve KIND --port N`) ------------------------------------

def _config(db_url: str):  # noqa: ANN202
    from dialer.settings.config import parse

    return parse(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                 '[web]\nsecure_cookies = false\n')


def serve(kind: str, port: int, db_url: str, sweep_every: float | None = None) -> None:
    """Run one server until SIGINT; `sweep_every`: the app's promise sweep every so many seconds, not hourly."""
    from aiohttp import web

    if kind == "app":
        from dialer.core.heap import freeze_start_up
        from web.app import create_app

        if sweep_every:
            from apscheduler.triggers.interval import IntervalTrigger

            import dialer.scheduling.scheduler

            # The hourly trigger swapped for a short interval: the agents' load then meets several sweeps.
            dialer.scheduling.scheduler.CronTrigger = lambda **_: IntervalTrigger(seconds=sweep_every)  # type: ignore[misc]

        app = create_app(_config(db_url), config_dir=ROOT / "config")

        async def started(app: web.Application) -> None:
            freeze_start_up()  # as `belblok serve` does once the app has started

        app.on_startup.append(started)
    elif kind == "bare":
        body = json.dumps({"debtor": {"ref": "B0000001", "name": "Bedrijf 1 B.V."}, "invoices": []}).encode()

        async def fixed(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        app = web.Application()
        app.router.add_get("/bare/{ref}", fixed)
    else:
        from psycopg_pool import AsyncConnectionPool

        app = web.Application()
        # psycopg's own pool, as the panel's reads use (web/readpool.py). A pool made of an asyncio.Queue is
        # unfair: a request that arrives while a woken waiter has not run yet takes its connection, and the
        # waiter queues again at the back. On uvloop that starved some requests for ~400 ms (p99 377 ms, p50 4).
        pool = AsyncConnectionPool(db_url, kwargs={"autocommit": True}, min_size=10, open=False)

        async def connections(app: web.Application):  # noqa: ANN202
            await pool.open(wait=True)
            yield
            await pool.close()

        async def query(request: web.Request) -> web.Response:
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT id, ref, name, kind, country FROM debtors WHERE ref = %s",
                                         (request.match_info["ref"],))
                row = await cur.fetchone()
            if row is None:
                raise web.HTTPNotFound()
            return web.json_response(dict(zip(("id", "ref", "name", "kind", "country"), row, strict=True)))

        app.cleanup_ctx.append(connections)
        app.router.add_get("/psycopg/{ref}", query)
    from web import eventloop

    # Every server on the loop `belblok serve` runs (uvloop), so the baselines compare like with like.
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=eventloop.new_event_loop())


# -- set-up: credentials, the data set, the machine ----------------------------------------------------------------

def _credentials(db_url: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers for the API (a bearer token) and for the page (a login session's cookie) of the agent `bench`;
    the bench database is first migrated to this checkout's schema."""
    from dialer.accounts.users import add_user, create_token, find_user, open_session
    from dialer.storage.database import make_engine, session_factory, upgrade
    from web.auth import COOKIE

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with session_factory(engine).begin() as session:
            now = datetime.now(UTC)
            user = find_user(session, "bench") or add_user(session, "bench", "agent", None, now=now)
            token = create_token(session, user, "bench", now=now)
            login = open_session(session, user, now=now, hours=12)
    finally:
        engine.dispose()
    return {"Authorization": f"Bearer {token}"}, {"Cookie": f"{COOKIE}={login.token}"}


def _data_set(db_url: str) -> tuple[int, str]:
    """How many debtors the data set has, and the server's shared_buffers (it decides what stays in memory)."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        count = int(conn.execute("SELECT max(id) FROM debtors").fetchone()[0])  # type: ignore[index]
        return count, str(conn.execute("SHOW shared_buffers").fetchone()[0])  # type: ignore[index]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 900) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("server did not start")


# -- the run ------------------------------------------------------------------------------------------------------

def _sweep_overlaps(started: float, ended: float) -> bool:
    """True if [started, ended] (epoch seconds) touches xx:05-xx:09, when the scheduler's hourly promise sweep runs."""
    minute = int(started // 60)
    return any(5 <= (m % 60) <= 9 for m in range(minute, int(ended // 60) + 1))


def _measure(args: argparse.Namespace, kind: str, refs: int,
             jobs: list[tuple[str, str, dict[str, str], list[tuple[str, str]]]]) -> list[tuple]:
    """Start one server of `kind`; per job (label, path, headers, loads) warm up, then run each load ("closed" or
    "agents"). Per load: the result, the server's CPU ms per request, and how busy the whole machine was."""
    from softphone.processes import free_port

    port = free_port("tcp")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", args.db,
                             "--sweep-every", str(args.sweep_every or 0)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{port}"
    closed = loadgen.wrk if args.client == "wrk" else loadgen.python_closed_loop
    found = []
    try:
        started = time.monotonic()
        _wait_listening(port, proc)
        if kind == "app":
            cpu = process_cpu(proc.pid)
            time.sleep(IDLE_SECONDS)  # what the idle panel burns (scheduler ticks): part of the agents' rows
            print(f"the panel started in {time.monotonic() - started - IDLE_SECONDS:.0f} s; idle it uses "
                  f"{(process_cpu(proc.pid) - cpu) * 1000 / IDLE_SECONDS:.0f} ms CPU per second", flush=True)
        for label, path, headers, loads in jobs:
            closed(base, path, refs, args.warmup, args.connections, headers)
            for load_label, load in loads:
                cpu, pg, since = process_cpu(proc.pid), postgres_cpu(args.db), time.time()
                busy, total = machine_busy()
                if load == "closed":
                    result = closed(base, path, refs, args.seconds, args.connections, headers)
                else:
                    result = loadgen.thinking_agents(base, path, refs, args.agent_seconds, args.agents, headers,
                                                     (args.think[0], args.think[1]))
                server_ms = (process_cpu(proc.pid) - cpu) * 1000 / max(1, result.requests)
                pg_ms = spent(pg, postgres_cpu(args.db)) * 1000 / max(1, result.requests)
                busy2, total2 = machine_busy()
                note = " (overlapped the hourly promise sweep)" if not args.sweep_every and _sweep_overlaps(since, time.time()) \
                    else f" (promise sweep every {args.sweep_every:g} s)" if args.sweep_every else ""
                found.append((label, load_label + note, result, server_ms, pg_ms,
                              (busy2 - busy) / max(1e-9, total2 - total)))
                print(f"{label}, {load_label}{note}: {result.requests} requests, {result.failures} failed, "
                      f"{result.rate:.0f} req/s, p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms, "
                      f"max {result.worst:.1f} ms, server CPU {server_ms:.2f} ms/request, "
                      f"PostgreSQL {pg_ms:.2f} ms/request, client CPU {result.client_cpu:.1f} s", flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return found


def run(args: argparse.Namespace) -> int:
    """Benchmark every target; print the figures and a Markdown table."""
    if args.client == "wrk" and not loadgen.have_wrk():
        print("wrk is not installed (apt-get install wrk): using the pinned Python client", file=sys.stderr)
        args.client = "python"
    refs, buffers = _data_set(args.db)
    api, page = _credentials(args.db)
    closed = [(f"{args.connections} connections, closed loop", "closed")]
    agents = [(f"{args.agents} agents, 1 dossier per {args.think[0]:g}–{args.think[1]:g} s", "agents")]
    realistic = closed + (agents if args.agents else [])
    targets = [("bare aiohttp, fixed JSON", "bare", "/bare/{ref}", {}, closed),
               ("bare psycopg query (debtor by ref)", "psycopg", "/psycopg/{ref}", {}, closed),
               ("`GET /api/v1/debtors/{ref}`", "app", "/api/v1/debtors/{ref}", api, realistic),
               ("`GET /dossiers/{ref}` (agent screen)", "app", "/dossiers/{ref}", page, realistic)]
    if args.only:
        targets = [t for t in targets if t[1] == "bare" or any(word in t[2] for word in args.only)]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    rows = []
    for kind in dict.fromkeys(t[1] for t in targets):  # the API and the page share one panel process
        jobs = [(label, path, headers, loads) for label, k, path, headers, loads in targets if k == kind]
        rows += _measure(args, kind, refs, jobs)
    client = "wrk -t1" if args.client == "wrk" else "Python aiohttp client"
    print()
    print(f"{refs:,} debtors; closed loop: {args.connections} connections for {args.seconds:g} s after "
          f"{args.warmup:g} s warm-up ({client}, pinned to core {loadgen.client_core()}); {os.cpu_count()} cores; "
          f"load average before: {' '.join(load_before)}; PostgreSQL shared_buffers {buffers}; "
          f"target p99 ≤ {TARGET_P99_MS:.0f} ms")
    print()
    print("| target | load | requests | failed | req/s | p50 ms | p99 ms | max ms | server CPU ms/req | "
          "PostgreSQL CPU ms/req | machine busy | client CPU |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, load_label, r, server_ms, pg_ms, busy in rows:
        print(f"| {label} | {load_label} | {r.requests} | {r.failures} | {r.rate:.0f} | {r.p50:.1f} | {r.p99:.1f} | "
              f"{r.worst:.1f} | {server_ms:.2f} | {pg_ms:.2f} | {busy:.0%} | {r.client_cpu / r.seconds:.0%} |")
    failed = [r for r in rows if not r[0].startswith("bare") and (r[2].p99 > TARGET_P99_MS or r[2].failures)]
    return 1 if failed else 0


def explain(db_url: str, ref: str) -> None:
    """EXPLAIN ANALYZE every query the agent screen (the credential lookups, the dossier with its agenda) runs."""
    import psycopg
    from sqlalchemy import event

    from dialer.accounts.users import session_login, token_user
    from dialer.dossiers.dossiersql import dossier_params
    from dialer.storage.database import make_engine, session_factory
    from web.screenreads import SCREEN

    engine = make_engine(db_url)
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    with session_factory(engine)() as session:
        now = datetime.now(UTC)
        token_user(session, "bench-explain", now=now)
        session_login(session, "bench-explain", now=now)
        session.rollback()
    captured.append((SCREEN.sql, SCREEN.args(dossier_params(ref, now.date()))))
    event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, parameters in captured:
            # The screen's statement is in PostgreSQL's own form ($1 …), as the read pool sends it (raw cursor).
            cur = psycopg.RawCursor(raw) if isinstance(parameters, tuple) else raw.cursor()
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + statement, parameters)  # type: ignore[arg-type]
            print(" ".join(statement.split())[:160])
            for (line,) in cur.fetchall():
                print("    " + line)
            print()
    engine.dispose()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the generated database (default {DEFAULT_DB})")
    parser.add_argument("--seconds", type=float, default=20, help="closed-loop measuring time per target")
    parser.add_argument("--warmup", type=float, default=5, help="closed-loop warm-up per server, in seconds")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk",
                        help="the closed-loop client (default wrk, the pinned Python client if wrk is missing)")
    parser.add_argument("--agents", type=int, default=50, help="agents for the realistic load (0: skip it)")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                        help="seconds an agent reads a dossier before opening the next")
    parser.add_argument("--agent-seconds", type=float, default=60, help="how long the agents work")
    parser.add_argument("--only", nargs="*", metavar="WORD",
                        help="only the targets whose path contains WORD (e.g. api dossiers), with the bare baseline")
    parser.add_argument("--explain", metavar="REF", help="EXPLAIN ANALYZE the agent screen's queries for one debtor")
    parser.add_argument("--sweep-every", type=float, metavar="SECONDS",
                        help="run the panel's promise sweep every so many seconds instead of hourly at xx:05")
    parser.add_argument("--serve", choices=("app", "bare", "psycopg"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db, args.sweep_every)
        return 0
    if args.explain:
        explain(args.db, args.explain)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
