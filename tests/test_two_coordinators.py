"""Past one box: two `belblok serve` on one PostgreSQL, an agent on each: the queue, the call-backs and the
wallboard are shared, nothing is claimed or fired twice, and each panel hears what the other coordinator did."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.dossiers.callbacks import Callback
from dialer.dossiers.parties import Debtor
from dialer.storage.database import make_engine, upgrade
from tests.conftest import stop_process
from tests.test_callbacks_cli import _free_port
from tests.webfixtures import add_account, bearer, seeded

ALWAYS = ('name = "always"\n[window]\ndays = ["mon","tue","wed","thu","fri","sat","sun"]\n'
          'start = "00:00"\nend = "23:59"\nholidays = ""\n')
ALL_DAY = '[[blocks]]\ndays = ["mon","tue","wed","thu","fri","sat","sun"]\nstart = "00:00"\nend = "23:59"\n'
BELBLOK = str(Path(sys.executable).with_name("belblok"))


def config(tmp_path: Path, url: str) -> Path:
    """One configuration for both coordinators: the same database, calling allowed at any hour."""
    pack = tmp_path / "always.toml"
    pack.write_text(ALWAYS)
    path = tmp_path / "belblok.toml"
    path.write_text(f'[database]\nurl = "{url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                    f'response_timeout_s = 2\n[recording]\ndir = "{tmp_path / "rec"}"\n[web]\n'
                    f'secure_cookies = false\n[team]\nname = "Testteam"\npolicy = "{pack}"\ncountry = "NL"\n'
                    f'timezone = "Europe/Amsterdam"\n{ALL_DAY}')
    return path


@asynccontextmanager
async def coordinator(path: Path, tmp_path: Path) -> AsyncIterator[tuple[str, subprocess.Popen[str]]]:
    """`belblok serve` on a port of its own, up until the block ends."""
    port = _free_port()
    proc = subprocess.Popen([BELBLOK, "--config", str(path), "serve", "--port", str(port)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert proc.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 90)
        assert "ready" in ready, ready + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_process(proc)


async def until(ws: aiohttp.ClientWebSocketResponse, wanted: Any, seen: list[dict], timeout: float = 30) -> dict:
    """Read the socket (keeping every message in `seen`) until a message satisfies `wanted`."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await ws.receive_json()
                seen.append(message)
                if wanted(message):
                    return message
    except TimeoutError:
        raise AssertionError(f"not heard within {timeout} s; the last messages: {seen[-4:]}") from None


def due_calls(seen: list[dict]) -> list[int]:
    return [m["detail"]["callback_id"] for m in seen if m.get("kind") == "callback_due"]


async def test_two_coordinators_share_queue_call_backs_and_wallboard(postgres_server: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_server)
    upgrade(engine)
    seeded(engine)
    add_account(engine, "bert", "agent")
    path = config(tmp_path, postgres_server)
    demo, bert, chef = (bearer(engine, name) for name in ("demo", "bert", "chef"))
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with coordinator(path, tmp_path) as (a, proc_a), coordinator(path, tmp_path) as (b, proc_b), \
            aiohttp.ClientSession() as http, aiohttp.ClientSession(cookie_jar=jar) as browser:
        # The wallboard is a page: the supervisor logs in (a bearer token opens the API and /ws only).
        signed = await browser.post(f"{a}/login", data={"username": "chef", "password": "demo"},
                                    allow_redirects=False)
        assert signed.status == 303, await signed.text()
        # Each agent's panel on a coordinator of its own; the supervisor's wallboard on the first.
        async with http.ws_connect(f"{a}/ws", headers=demo) as demo_ws, \
                http.ws_connect(f"{b}/ws", headers=bert) as bert_ws, \
                browser.ws_connect(f"{a}/wallboard/ws") as board:
            demo_seen: list[dict] = []
            bert_seen: list[dict] = []
            board_seen: list[dict] = []
            await until(demo_ws, lambda m: m["type"] == "hello", demo_seen)
            await until(bert_ws, lambda m: m["type"] == "hello", bert_seen)
            await until(board, lambda m: m["type"] == "board", board_seen)

            # The queue: both agents preview at the same moment, again and again; never the same dossier.
            for round_ in range(6):
                action = "start" if round_ == 0 else "preview"
                answers = await asyncio.gather(*(http.post(f"{url}/api/v1/session/{action}", headers=auth,
                                                           json={"mode": "preview"})
                                                 for url, auth in ((a, demo), (b, bert))))
                states = [await answer.json() for answer in answers]
                assert [answer.status for answer in answers] == [200, 200], states
                held = [state["session"]["entry"]["debtor"] for state in states]
                assert held[0] != held[1], f"round {round_}: both agents hold {held[0]}"
            for url, auth in ((a, demo), (b, bert)):
                assert (await http.post(f"{url}/api/v1/session/end", headers=auth, json={})).status == 200

            # Call-backs: twenty due now, ten for each agent; both coordinators' schedulers race for them.
            now = datetime.now(UTC)
            with Session(engine) as session, session.begin():
                debtors = list(session.scalars(select(Debtor.id).order_by(Debtor.id)))
                calls = [Callback(debtor_id=debtors[i % len(debtors)], kind="appointment", agent=agent,
                                  status="pending", due_at=now - timedelta(seconds=1), created_at=now,
                                  created_by="test") for i, agent in enumerate(["demo", "bert"] * 10)]
                session.add_all(calls)
                session.flush()
                mine = {"demo": {c.id for c in calls if c.agent == "demo"},
                        "bert": {c.id for c in calls if c.agent == "bert"}}
            await until(demo_ws, lambda m: set(due_calls(demo_seen)) >= mine["demo"], demo_seen)
            await until(bert_ws, lambda m: set(due_calls(bert_seen)) >= mine["bert"], bert_seen)
            with Session(engine) as session:
                fired = dict(session.execute(select(Callback.id, Callback.claimed_by)
                                             .where(Callback.id.in_(mine["demo"] | mine["bert"]))).tuples().all())
            nodes = {f"{name}:{proc.pid}" for name, proc in ((os.uname().nodename, proc_a),
                                                              (os.uname().nodename, proc_b))}
            assert set(fired.values()) <= {n[:64] for n in nodes}, fired
            # A barrier through every coordinator that fired: a state change of each agent made there
            # reaches the agent's own panel after anything that coordinator sent before it.
            for node in set(fired.values()):
                url = a if node.endswith(f":{proc_a.pid}") else b
                for auth, ws, seen, agent in ((demo, demo_ws, demo_seen, "demo"), (bert, bert_ws, bert_seen, "bert")):
                    changed = await http.post(f"{url}/api/v1/agent/state", headers=auth, json={"state": "ready"})
                    assert changed.status == 200, await changed.text()
                    await until(ws, lambda m, who=agent: m.get("kind") == "agent_state"
                                and m.get("detail", {}).get("state") == "ready" and m["agent"] == who, seen)
                    await http.post(f"{url}/api/v1/agent/state", headers=auth, json={"state": "offline"})
                    await until(ws, lambda m, who=agent: m.get("kind") == "agent_state"
                                and m.get("detail", {}).get("state") == "offline" and m["agent"] == who, seen)
            assert sorted(due_calls(demo_seen)) == sorted(mine["demo"])  # each once, none missing
            assert sorted(due_calls(bert_seen)) == sorted(mine["bert"])

            # The wallboard on the first coordinator shows the second's agent as it changes.
            await http.post(f"{b}/api/v1/agent/state", headers=bert, json={"state": "ready"})
            state = await until(board, lambda m: m["type"] == "state" and m.get("agent") == "bert"
                                and m.get("state") == "ready", board_seen)
            assert state["agent"] == "bert"
            snapshot = await (await http.get(f"{a}/api/v1/wallboard", headers=chef)).json()
            assert {"bert": "ready"}.items() <= {s["agent"]: s["state"] for s in snapshot["agents"]}.items()
    engine.dispose()
