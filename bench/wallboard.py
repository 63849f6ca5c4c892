"""Benchmark of the wallboard: how long an agent's state change takes to reach an open wallboard, 50 agents at work.

    .venv/bin/python bench/wallboard.py                                    # SQLite, in a temporary directory
    .venv/bin/python bench/wallboard.py --db postgresql://postgres@127.0.0.1:5433/belblok_wallboard

The panel runs in its own process as `belblok serve` makes it (`create_app`, uvloop; bench/panel.py's server), on a
fresh database migrated to this checkout (a PostgreSQL database is created if missing) with --agents agents and a
supervisor. A wallboard client (aiohttp, the supervisor's login cookie, as the page's script) holds /wallboard/ws
open; each agent (its own bearer token) goes ready → paused with a pause code → ready … through
`POST /api/v1/agent/state`, one change every --think MIN..MAX seconds. Measured per change: from the moment the
request is sent to the moment the wallboard receives the `state` message that shows it (agent, state and code
match), and the POST's own answer time, after a 3 s warm-up. Baseline in the same run, measured the same way: a
bare aiohttp server that broadcasts each POSTed change to its WebSockets. Beside latency: the server's CPU per
change, from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cpuuse import process_cpu  # noqa: E402  (bench/ is on sys.path as the script's folder)
from loadgen import percentile  # noqa: E402

TARGET_P99_MS = 500.0
LOST_AFTER_S = 5.0  # a change not on the wallboard by then counts as lost
WARMUP_S = 3.0
CODES = ("break", "lunch", "meeting", "admin", "coaching")  # the default [[pause_codes]]


# -- the servers (each run as `python bench/wallboard.py --serve KIND --port N`) ----------------------------------

def serve_bare(port: int) -> None:
    """The baseline: POST /state {"agent", "state", "code"} is sent to every WebSocket of GET /ws, then answered."""
    from aiohttp import WSMsgType, web

    from web import eventloop

    sockets: set[web.WebSocketResponse] = set()

    async def change(request: web.Request) -> web.Response:
        body = await request.json()
        message = {"type": "state", "agent": body["agent"], "state": body["state"], "code": body.get("code"),
                   "since": datetime.now(UTC).isoformat()}
        for ws in list(sockets):
            await ws.send_json(message)
        return web.json_response(message)

    async def board(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        sockets.add(ws)
        try:
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            sockets.discard(ws)
        return ws

    app = web.Application()
    app.router.add_post("/state", change)
    app.router.add_get("/ws", board)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=eventloop.new_event_loop())


# -- set-up -------------------------------------------------------------------------------------------------------

def _database(db_url: str) -> None:
    """Create the PostgreSQL database of `db_url` if it does not exist (SQLite files create themselves)."""
    if not db_url.startswith("postgresql"):
        return
    import psycopg
    from psycopg import sql

    server, name = db_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _credentials(db_url: str, agents: int) -> tuple[list[tuple[str, str]], str]:
    """Migrate; the agents (name, bearer token), and a supervisor's login cookie for the wallboard."""
    from dialer.accounts.users import add_user, create_token, find_user, open_session
    from dialer.storage.database import make_engine, session_factory, upgrade
    from web.auth import COOKIE

    _database(db_url)
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        with session_factory(engine).begin() as session:
            found = []
            for n in range(1, agents + 1):
                name = f"wb{n:02d}"
                user = find_user(session, name) or add_user(session, name, "agent", None, now=now)
                found.append((name, create_token(session, user, "bench", now=now)))
            chef = find_user(session, "wbchef") or add_user(session, "wbchef", "supervisor", None, now=now)
            cookie = f"{COOKIE}={open_session(session, chef, now=now, hours=12).token}"
    finally:
        engine.dispose()
    return found, cookie


def _start(kind: str, db_url: str) -> tuple[subprocess.Popen[bytes], int]:
    from panel import _wait_listening

    from softphone.processes import free_port

    port = free_port("tcp")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", db_url],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _wait_listening(port, proc)
    return proc, port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- the run ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """One load's measurements, in ms."""

    changes: int
    lost: int
    failed: int
    seconds: float
    shown: list[float]  # request sent → state message on the wallboard
    answered: list[float]  # request sent → the POST's answer
    server_cpu_ms: float  # per change
    client_cpu_s: float

    def row(self, label: str, load: str) -> str:
        """A Markdown table row."""
        s, a = self.shown or [0.0], self.answered or [0.0]
        rate = self.changes / self.seconds
        return (f"| {label} | {load} | {self.changes} | {self.lost} | {self.failed} | {rate:.1f} "
                f"| {statistics.median(s):.1f} | {percentile(s, 95):.1f} | {percentile(s, 99):.1f} | {max(s):.1f} "
                f"| {statistics.median(a):.1f} | {percentile(a, 99):.1f} | {self.server_cpu_ms:.2f} "
                f"| {self.client_cpu_s / self.seconds:.0%} |")


async def _drive(base: str, bare: bool, agents: list[tuple[str, str]], cookie: str, seconds: float,
                 think: tuple[float, float]) -> tuple[int, int, int, float, list[float], list[float]]:
    """Agents changing state while one wallboard listens: (changes, lost, failed, seconds, shown, answered);
    the first WARMUP_S are not counted (connections opened, the app's caches filled)."""
    import aiohttp

    rng = random.Random(13)
    sent: dict[tuple[str, str, str | None], tuple[float, bool]] = {}  # (sent at, counted)
    shown: list[float] = []
    answered: list[float] = []
    failed = 0
    async with aiohttp.ClientSession(base) as http:
        ws = await http.ws_connect("/ws" if bare else "/wallboard/ws", headers={} if bare else {"Cookie": cookie})

        async def watch() -> None:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                arrived = time.perf_counter()
                data = message.json()
                if data.get("type") == "state":
                    started, counted = sent.pop((data["agent"], data["state"], data.get("code")), (0.0, False))
                    if counted:
                        shown.append((arrived - started) * 1000)

        watcher = asyncio.ensure_future(watch())
        counting = time.perf_counter() + WARMUP_S
        stop = counting + seconds

        async def agent(name: str, token: str) -> None:
            nonlocal failed
            headers = {} if bare else {"Authorization": f"Bearer {token}"}
            state = "ready"
            await asyncio.sleep(rng.uniform(0, think[1]))  # agents do not start in step
            while time.perf_counter() < stop:
                state = "paused" if state == "ready" else "ready"
                code = rng.choice(CODES) if state == "paused" else None
                body = {"state": state, "code": code, **({"agent": name} if bare else {})}
                started = time.perf_counter()
                counted = started >= counting
                sent[(name, state, code)] = (started, counted)
                async with http.post("/state" if bare else "/api/v1/agent/state", json=body,
                                     headers=headers) as response:
                    await response.read()
                    if counted:
                        answered.append((time.perf_counter() - started) * 1000)
                    if response.status != 200:
                        failed += counted
                        sent.pop((name, state, code), None)
                await asyncio.sleep(rng.uniform(*think))

        await asyncio.gather(*(agent(name, token) for name, token in agents))
        elapsed = time.perf_counter() - counting
        await asyncio.sleep(LOST_AFTER_S)  # the last changes' messages
        watcher.cancel()
        await ws.close()
    lost = sum(counted for _, counted in sent.values())
    return len(answered), lost, failed, elapsed, shown, answered


async def _ready_all(base: str, agents: list[tuple[str, str]]) -> None:
    """Every agent ready once, unmeasured: the first change of an agent also creates its row."""
    import aiohttp

    async with aiohttp.ClientSession(base) as http:
        for _, token in agents:
            async with http.post("/api/v1/agent/state", json={"state": "ready"},
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                await response.read()


def measure(kind: str, db_url: str, agents: list[tuple[str, str]], cookie: str, seconds: float,
            think: tuple[float, float]) -> Figures:
    """Start the server of `kind` (app or bare), run the agents against it with a wallboard open, stop it."""
    proc, port = _start(kind, db_url)
    base = f"http://127.0.0.1:{port}"
    try:
        if kind == "app":
            asyncio.run(_ready_all(base, agents))
        cpu, own = process_cpu(proc.pid), time.process_time()
        changes, lost, failed, elapsed, shown, answered = asyncio.run(
            _drive(base, kind == "bare", agents, cookie, seconds, think))
        server = (process_cpu(proc.pid) - cpu) * 1000 / max(1, changes)
        return Figures(changes, lost, failed, elapsed, shown, answered, server, time.process_time() - own)
    finally:
        _stop(proc)


def run(args: argparse.Namespace) -> int:
    """Both servers under each load; print the figures and a Markdown table."""
    directory = None
    if args.db is None:
        directory = tempfile.TemporaryDirectory(prefix="belblok-wallboard-")
        args.db = f"sqlite:///{directory.name}/wallboard.db"
    agents, cookie = _credentials(args.db, args.agents)
    loads = [(f"{args.agents} agents, 1 change per {args.think[0]:g}–{args.think[1]:g} s", tuple(args.think))]
    if args.busy:
        loads.append((f"{args.agents} agents, 1 change per {args.busy[0]:g}–{args.busy[1]:g} s", tuple(args.busy)))
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    rows = []
    for load, think in loads:
        for label, kind in (("bare aiohttp WebSocket broadcast", "bare"), ("Belblok `/wallboard/ws`", "app")):
            figures = measure(kind, args.db, agents, cookie, args.seconds, think)
            rows.append((label, load, figures))
            s = figures.shown or [0.0]
            print(f"{label}, {load}: {figures.changes} changes, {figures.lost} lost, {figures.failed} failed, "
                  f"shown p50 {statistics.median(s):.1f} ms, p99 {percentile(s, 99):.1f} ms, max {max(s):.1f} ms",
                  flush=True)
    database = "SQLite" if args.db.startswith("sqlite") else "PostgreSQL"
    print()
    print(f"{database}; {args.seconds:g} s per load; {os.cpu_count()} cores; load average before: "
          f"{' '.join(load_before)}; target p99 ≤ {TARGET_P99_MS:.0f} ms (request sent → on the wallboard)")
    print()
    print("| server | load | changes | lost | failed | changes/s | shown p50 ms | p95 ms | p99 ms | max ms "
          "| POST answered p50 ms | p99 ms | server CPU ms/change | client CPU |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, load, figures in rows:
        print(figures.row(label, load))
    if directory is not None:
        directory.cleanup()
    app = [f for label, _, f in rows if "Belblok" in label]
    return 1 if any(f.lost or f.failed or percentile(f.shown or [1e9], 99) > TARGET_P99_MS for f in app) else 0


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="postgresql://…/name (created if missing); default a temporary SQLite file")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="how long the agents work, per server and load")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"),
                        help="seconds between one agent's changes (default 1 5)")
    parser.add_argument("--busy", type=float, nargs=2, default=(0.1, 0.5), metavar=("MIN", "MAX"),
                        help="a second, busier load (default 0.1 0.5; 0 0 to skip it)")
    parser.add_argument("--serve", choices=("app", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.busy and not any(args.busy):
        args.busy = None
    if args.serve == "bare":
        serve_bare(args.port)
        return 0
    if args.serve == "app":
        from panel import serve

        serve("app", args.port, args.db)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
