"""`belblok user add`, `belblok token create` and `belblok serve --demo` as a person runs them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import select
from sqlalchemy.engine import Engine

from dialer.accounts.models import ApiToken, User
from dialer.storage.database import session_factory
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, web_config

BELBLOK = str(Path(sys.executable).with_name("belblok"))


def config_file(tmp_path: Path, db_url: str, extra: str = "") -> Path:
    path = tmp_path / "belblok.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                    f'[recording]\ndir = "{tmp_path / "rec"}"\n[web]\nsecure_cookies = false\n{extra}')
    return path


def belblok(*args: str, cwd: Path, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BELBLOK, *args], input=stdin, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_user_add_reads_the_password_from_stdin_and_refuses_an_empty_one(tmp_path: Path, db_url: str,
                                                                         engine: Engine) -> None:
    cfg = str(config_file(tmp_path, db_url))
    done = belblok("--config", cfg, "user", "add", "anna", "--role", "agent", "--email", "anna@belblok.example",
                   "--agent-line", "sip:anna@127.0.0.1:5062", "--language", "en", cwd=tmp_path,
                   stdin="geheim wachtwoord\n")
    assert done.returncode == 0, done.stderr
    empty = belblok("--config", cfg, "user", "add", "bert", "--role", "agent", cwd=tmp_path, stdin="\n")
    assert empty.returncode == 2 and "password" in empty.stderr and "Traceback" not in empty.stderr
    twice = belblok("--config", cfg, "user", "add", "anna", "--role", "agent", cwd=tmp_path, stdin="x\n")
    assert twice.returncode == 2 and "already exists" in twice.stderr
    bad_role = belblok("--config", cfg, "user", "add", "carl", "--role", "boss", cwd=tmp_path, stdin="x\n")
    assert bad_role.returncode == 2
    with session_factory(engine)() as session:
        users = list(session.scalars(select(User)))
    assert [(u.name, u.role, u.email, u.agent_line, u.language) for u in users] == [
        ("anna", "agent", "anna@belblok.example", "sip:anna@127.0.0.1:5062", "en")]
    assert users[0].password_hash.startswith("$argon2id$") and "geheim" not in users[0].password_hash


async def test_token_create_prints_the_token_last_and_it_works(tmp_path: Path, db_url: str, engine: Engine,
                                                               make_client: MakeClient) -> None:
    cfg = str(config_file(tmp_path, db_url))
    assert belblok("--config", cfg, "user", "add", "anna", "--role", "agent", cwd=tmp_path, stdin="pw\n").returncode == 0
    own = belblok("--config", cfg, "token", "create", "anna", cwd=tmp_path)
    service = belblok("--config", cfg, "token", "create", "boekhouding", "--role", "supervisor", cwd=tmp_path)
    agent_service = belblok("--config", cfg, "token", "create", "robot", "--role", "agent", cwd=tmp_path)
    for proc in (own, service, agent_service):
        assert proc.returncode == 0, proc.stderr
    anna_token = own.stdout.strip().splitlines()[-1]
    service_token = service.stdout.strip().splitlines()[-1]
    with session_factory(engine)() as session:
        roles = dict(session.execute(select(User.name, User.role)).all())
        hashes = set(session.scalars(select(ApiToken.token_sha256)))
        assert session.scalar(select(User.password_hash).where(User.name == "boekhouding")) == "!"
    assert roles == {"anna": "agent", "boekhouding": "supervisor", "robot": "agent"}
    assert anna_token not in hashes and len(hashes) == 3
    client = await make_client(web_config(db_url, tmp_path))
    spec = await client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {anna_token}"})
    assert spec.status == 200
    imported = await client.post("/api/v1/imports/debtors", data=b"ref;name\nK-1;Kapper\n",
                                 headers={"Authorization": f"Bearer {service_token}", "Content-Type": "text/csv"})
    assert imported.status == 200, await imported.text()
    forbidden = await client.post("/api/v1/imports/debtors", data=b"ref;name\nK-2;Bakker\n",
                                  headers={"Authorization": f"Bearer {anna_token}", "Content-Type": "text/csv"})
    assert forbidden.status == 403
    no_password = await client.post("/login", data={"username": "boekhouding", "password": "!"},
                                    allow_redirects=False)
    assert no_password.status == 401


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_serve_demo_runs_calls_and_mail_on_loopback_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'var' / 'demo.db'}", '[team]\nname = "Demoteam"\n')
    proc = await asyncio.create_subprocess_exec(
        BELBLOK, "--config", str(cfg), "serve", "--demo", "--host", "127.0.0.1", "--port", "0", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    url = ""
    try:
        while not url:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, (await proc.stderr.read()).decode() if proc.stderr else "serve exited"
            if "ready at " in line:
                url = line.split("ready at ", 1)[1].strip()
        assert "demo / demo" in (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        helpers = _children(proc.pid)
        assert len(helpers) >= 4  # three SIPp lines and the agent phone's worker
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            login = await http.post(url + "login", data={"username": "demo", "password": "demo"},
                                    allow_redirects=False)
            assert login.status == 303
            page = await http.get(url + "dossiers/D-1001")
            text = await page.text()
            csrf = text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            headers = {"X-CSRF-Token": csrf}
            dial = await http.post(url + "api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31201110001"},
                                   headers=headers)
            assert dial.status == 201, await dial.text()
            seen = set()
            while "answered" not in seen:  # follow the live state until the simulated debtor answers
                event = (await (await http.get(url + "api/v1/calls/current")).json())["event"]
                seen.add(event["kind"] if event else None)
                assert "ended" not in seen, event
                await asyncio.sleep(0.1)
            await http.post(url + "api/v1/calls/hangup", headers=headers)
            wrap = await http.post(url + "api/v1/wrapups", headers=headers, json={
                "debtor_ref": "D-1001", "outcome": "promise_to_pay", "contact": "Jan van Dijk",
                "attempt_id": (await dial.json())["attempt_id"],
                "agreement": {"payments": [{"amount": "1815.00", "due_date": "2099-01-01"}],
                              "invoices": ["F2026-0412"]}, "confirm": True})
            assert wrap.status == 201, await wrap.text()
            assert (await wrap.json())["email_status"] == "sent"
            outbox = await (await http.get(url + "outbox")).text()
            assert "Bevestiging van onze betalingsafspraak" in outbox
            # Petra's switchboard number reaches the busy line: the demo routes each number to its behaviour.
            busy = await http.post(url + "api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31201110009"},
                                   headers=headers)
            assert busy.status == 201, await busy.text()
            busy_id = (await busy.json())["attempt_id"]
            while True:
                event = (await (await http.get(url + "api/v1/calls/current")).json())["event"]
                if event["attempt_id"] == busy_id and event["kind"] == "ended":
                    break
                await asyncio.sleep(0.1)
            assert (event["outcome"], event["sip_code"]) == ("busy", 486)
        assert list((tmp_path / "var" / "outbox").glob("*.eml"))
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 60)
    assert code == 0, (await proc.stderr.read()).decode() if proc.stderr else code
    assert not [pid for pid in helpers if _alive(pid)]


async def test_serve_starts_on_a_new_database_and_stops_on_sigterm(tmp_path: Path) -> None:
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'var' / 'new.db'}")
    proc = await asyncio.create_subprocess_exec(
        BELBLOK, "--config", str(cfg), "serve", "--port", "0", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert "ready at http://127.0.0.1:" in line, line
        url = line.split("ready at ", 1)[1].strip()
        async with aiohttp.ClientSession() as http:
            login = await http.get(url + "login")
            assert login.status == 200 and "Inloggen" in await login.text()
            api = await http.get(url + "api/v1/debtors/X")
            assert api.status == 401
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
