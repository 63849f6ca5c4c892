"""Benchmark of the agent screen: GET /api/v1/debtors/{ref} and /dossiers/{ref} under 50 concurrent clients.

    .venv/bin/python bench/gen_dossiers.py          # once: 1,000,000 debtors, 10,000,000 attempts
    .venv/bin/python bench/panel.py                 # p50/p99 per target and a Markdown table

Each target is served by its own server process on 127.0.0.1 (as `belblok serve` would run it) and hit by
--concurrency workers sharing one aiohttp ClientSession until --requests requests are done, after a warm-up.
Baselines in the same run: a bare aiohttp handler returning a fixed JSON, and a bare psycopg query (the
debtor row by reference) behind a bare aiohttp handler. Debtor references are drawn at random from all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/belblok_bench"
TARGET_P99_MS = 100.0


# -- the servers (each run as `python bench/panel.py --serve KIND --port N`) ------------------------------------

def _config(db_url: str):  # noqa: ANN202
    from dialer.config import parse

    return parse(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                 '[web]\nsecure_cookies = false\n')


def serve(kind: str, port: int, db_url: str) -> None:
    """Run one server until SIGTERM."""
    from aiohttp import web

    if kind == "app":
        from web.app import create_app

        app = create_app(_config(db_url), config_dir=ROOT / "config")
    elif kind == "bare":
        body = json.dumps({"debtor": {"ref": "B0000001", "name": "Bedrijf 1 B.V."}, "invoices": []}).encode()

        async def fixed(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        app = web.Application()
        app.router.add_get("/bare/{ref}", fixed)
    else:
        import psycopg

        app = web.Application()
        pool: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

        async def connections(app: web.Application):  # noqa: ANN202
            opened = [await psycopg.AsyncConnection.connect(db_url, autocommit=True) for _ in range(10)]
            for conn in opened:
                pool.put_nowait(conn)
            yield
            for conn in opened:
                await conn.close()

        async def query(request: web.Request) -> web.Response:
            conn = await pool.get()
            try:
                cur = await conn.execute("SELECT id, ref, name, kind, country FROM debtors WHERE ref = %s",
                                         (request.match_info["ref"],))
                row = await cur.fetchone()
            finally:
                pool.put_nowait(conn)
            if row is None:
                raise web.HTTPNotFound()
            return web.json_response(dict(zip(("id", "ref", "name", "kind", "country"), row, strict=True)))

        app.cleanup_ctx.append(connections)
        app.router.add_get("/psycopg/{ref}", query)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the client ----------------------------------------------------------------------------------------------------

def _token(db_url: str) -> str:
    from dialer.database import make_engine, session_factory
    from dialer.users import add_user, create_token, find_user

    engine = make_engine(db_url)
    try:
        with session_factory(engine).begin() as session:
            now = datetime.now(UTC)
            user = find_user(session, "bench") or add_user(session, "bench", "agent", None, now=now)
            return create_token(session, user, "bench", now=now)
    finally:
        engine.dispose()


def _debtors(db_url: str) -> int:
    import psycopg

    with psycopg.connect(db_url) as conn:
        return int(conn.execute("SELECT max(id) FROM debtors").fetchone()[0])  # type: ignore[index]


async def _load(base: str, path: str, refs: int, requests: int, concurrency: int, headers: dict[str, str],
                seed: int) -> tuple[list[float], float, int]:
    import aiohttp

    rng = random.Random(seed)
    todo = [f"B{rng.randint(1, refs):07d}" for _ in range(requests)]
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as http:
        async def worker() -> None:
            nonlocal failures
            while todo:
                ref = todo.pop()
                started = time.perf_counter()
                async with http.get(path.format(ref=ref)) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, failures


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1)]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
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


def explain(db_url: str, ref: str) -> None:
    """EXPLAIN ANALYZE every query the dossier (and the bearer-token lookup) runs, to see the indexes used."""
    from sqlalchemy import event, text

    from dialer.database import make_engine, session_factory
    from dialer.dossier import build_dossier
    from dialer.users import token_user

    engine = make_engine(db_url)
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    with session_factory(engine)() as session:
        token_user(session, "bench-explain", now=datetime.now(UTC))
        build_dossier(session, ref, datetime.now(UTC).date())
        session.rollback()
    event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, parameters in captured:
            cur = raw.cursor()
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + statement, parameters)  # type: ignore[arg-type]
            plan = [row[0] for row in cur.fetchall()]
            print(" ".join(statement.split())[:160])
            for line in plan:
                print("    " + line)
            print()
        conn.execute(text("SELECT 1"))
    engine.dispose()


def run(args: argparse.Namespace) -> int:
    """Benchmark every target; print the figures and a Markdown table."""
    from softphone.processes import free_port

    refs = _debtors(args.db)
    token = _token(args.db)
    headers = {"Authorization": f"Bearer {token}"}
    targets = [("bare aiohttp, fixed JSON", "bare", "/bare/{ref}"),
               ("bare psycopg query (debtor by ref)", "psycopg", "/psycopg/{ref}"),
               ("GET /api/v1/debtors/{ref}", "app", "/api/v1/debtors/{ref}"),
               ("GET /dossiers/{ref} (agent screen)", "app", "/dossiers/{ref}")]
    if args.only:
        targets = [t for t in targets if t[1] in ("bare",) or any(word in t[2] for word in args.only)]
    rows = []
    for label, kind, path in targets:
        port = free_port("tcp")
        proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", args.db],
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            _wait_listening(port, proc)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(_load(base, path, refs, args.warmup, args.concurrency, headers, seed=1))
            latencies, elapsed, failures = asyncio.run(
                _load(base, path, refs, args.requests, args.concurrency, headers, seed=2))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        p50, p99 = statistics.median(latencies), _percentile(latencies, 99)
        rate = len(latencies) / elapsed
        rows.append((label, len(latencies), failures, rate, p50, p99, max(latencies)))
        print(f"{label}: {len(latencies)} requests, {failures} failed, {rate:.0f} req/s, p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms", flush=True)
    print()
    print(f"{refs:,} debtors; {args.concurrency} concurrent clients; {args.requests} requests per target "
          f"after {args.warmup} warm-up; target p99 ≤ {TARGET_P99_MS:.0f} ms")
    print()
    print("| target | requests | failed | req/s | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, count, failures, rate, p50, p99, worst in rows:
        print(f"| {label} | {count} | {failures} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {worst:.1f} |")
    failed = [r for r in rows if not r[0].startswith('bare') and (r[5] > TARGET_P99_MS or r[2])]
    return 1 if failed else 0


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help=f"the generated database (default {DEFAULT_DB})")
    parser.add_argument("--requests", type=int, default=5000, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--only", nargs="*", metavar="WORD",
                        help="only the targets whose path contains WORD (e.g. api dossiers), with the bare baseline")
    parser.add_argument("--explain", metavar="REF", help="EXPLAIN ANALYZE the dossier's queries for one debtor")
    parser.add_argument("--serve", choices=("app", "bare", "psycopg"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db)
        return 0
    if args.explain:
        explain(args.db, args.explain)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
