"""The demo's incoming call: a debtor the agent phoned calls back and is put through onto the agent line."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from sqlalchemy import select

from dialer.calllog.attempt import Attempt
from dialer.storage.database import make_engine, session_factory
from tests.test_web_cli import BELBLOK, config_file


async def _event(http: aiohttp.ClientSession, url: str, want) -> dict:
    """Poll the live state (the panel's own API) until `want(event)`; the demo lines answer on their own."""
    event = None
    for _ in range(600):
        event = (await (await http.get(url + "api/v1/calls/current")).json())["event"]
        if event and want(event):
            return event
        await asyncio.sleep(0.1)
    raise AssertionError(f"the live state never got there; last: {event}")


@asynccontextmanager
async def demo_serve(tmp_path: Path, cfg: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`belblok serve --demo` started in `tmp_path` until it says where it is ready; stopped with Ctrl-C after."""
    proc = await asyncio.create_subprocess_exec(
        BELBLOK, "--config", str(cfg), "serve", "--demo", "--host", "127.0.0.1", "--port", "0", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = ""
        while "ready at " not in line:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "serve exited"
        yield proc, line.split("ready at ", 1)[1].strip()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 60)
    assert code == 0, (await proc.stderr.read()).decode() if proc.stderr else code


async def test_in_the_demo_a_debtor_calls_back_and_is_put_through_to_the_agent(tmp_path: Path) -> None:
    db = tmp_path / "var" / "demo.db"
    cfg = config_file(tmp_path, f"sqlite:///{db}")
    async with demo_serve(tmp_path, cfg) as (proc, url):
        assert "demo / demo" in (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert "SIP port" in (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await http.post(url + "login", data={"username": "demo", "password": "demo"}, allow_redirects=False)
            text = await (await http.get(url + "dossiers/D-1001")).text()
            assert 'id="demo-call-in"' in text  # the agent screen's demo button
            headers = {"X-CSRF-Token": text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]}
            # The agent phones the debtor first (that makes them the owner), then hangs up.
            dial = await http.post(url + "api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31201110001"},
                                   headers=headers)
            out_id = (await dial.json())["attempt_id"]
            await _event(http, url, lambda e: e["attempt_id"] == out_id and e["kind"] == "answered")
            await http.post(url + "api/v1/calls/hangup", headers=headers)
            await _event(http, url, lambda e: e["attempt_id"] == out_id and e["kind"] in ("ended", "recording"))
            # The debtor calls back: the team line puts the call through onto the agent line.
            call_in = await http.post(url + "api/v1/demo/incoming", json={"debtor_ref": "D-1001"}, headers=headers)
            assert call_in.status == 202, await call_in.text()
            number = (await call_in.json())["number"]
            answered = await _event(http, url, lambda e: e["attempt_id"] != out_id and e["kind"] == "answered")
            assert (answered["debtor_ref"], answered["number"]) == ("D-1001", number)
            await http.post(url + "api/v1/calls/hangup", headers=headers)
            done = ("ended", "recording")
            await _event(http, url, lambda e: e["attempt_id"] == answered["attempt_id"] and e["kind"] in done)
            unknown = await http.post(url + "api/v1/demo/incoming", json={"debtor_ref": "D-nope"}, headers=headers)
            assert unknown.status == 404
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        inbound = session.scalars(select(Attempt).where(Attempt.direction == "in")).one()
    engine.dispose()
    assert (inbound.debtor_ref, inbound.number, inbound.agent, inbound.outcome) == ("D-1001", number, "demo",
                                                                                     "answered")


async def test_in_the_demo_the_supervisor_listens_in_with_their_own_simulated_phone(tmp_path: Path) -> None:
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'var' / 'demo.db'}")
    async with demo_serve(tmp_path, cfg) as (proc, url):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent, \
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as chef:
            headers = {}
            for http, name, page in ((agent, "demo", "dossiers/D-1001"), (chef, "chef", "wallboard")):
                await http.post(url + "login", data={"username": name, "password": "demo"}, allow_redirects=False)
                text = await (await http.get(url + page)).text()
                headers[name] = {"X-CSRF-Token": text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]}
            dial = await agent.post(url + "api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31201110001"},
                                    headers=headers["demo"])
            attempt = (await dial.json())["attempt_id"]
            await _event(agent, url, lambda e: e["attempt_id"] == attempt and e["kind"] == "answered")
            listen = await chef.post(url + "api/v1/agents/demo/monitor", json={"mode": "listen"},
                                     headers=headers["chef"])
            assert listen.status == 200, await listen.text()
            leg = (await listen.json())["leg"]
            for _ in range(300):  # chef's simulated phone picks up on its own; asking again reports the same leg
                if leg == "answered":
                    break
                await asyncio.sleep(0.1)
                again = await chef.post(url + "api/v1/agents/demo/monitor", json={"mode": "listen"},
                                        headers=headers["chef"])
                leg = (await again.json())["leg"]
            assert leg == "answered", leg
            stop = await chef.post(url + "api/v1/agents/demo/monitor", json={"mode": "stop"},
                                   headers=headers["chef"])
            assert stop.status == 200, await stop.text()
            logged = await (await chef.get(url + f"api/v1/attempts/{attempt}/monitoring")).json()
            actions = [a["action"] for a in logged["actions"]]
            assert actions[0] == "listen" and actions[-1] == "stop" and set(actions) == {"listen", "stop"}
            await agent.post(url + "api/v1/calls/hangup", headers=headers["demo"])


async def test_outside_the_demo_the_simulated_call_is_not_available(tmp_path: Path) -> None:
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    proc = await asyncio.create_subprocess_exec(
        BELBLOK, "--config", str(cfg), "serve", "--host", "127.0.0.1", "--port", "0", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        url = line.split("ready at ", 1)[1].strip()
        token = await asyncio.create_subprocess_exec(BELBLOK, "--config", str(cfg), "token", "create", "anna",
                                                     "--role", "agent", cwd=tmp_path, stdout=asyncio.subprocess.PIPE)
        out, _ = await token.communicate()
        auth = {"Authorization": f"Bearer {out.decode().strip().splitlines()[-1]}"}
        async with aiohttp.ClientSession(headers=auth) as http:
            response = await http.post(url + "api/v1/demo/incoming", json={"debtor_ref": "D-1"})
            assert response.status == 404
            assert "demo" in (await response.json())["error"]
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
