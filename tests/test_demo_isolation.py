"""The demo never leaves a way in: its own database, and its users (a published password) log in to it only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from dialer.accounts.models import User
from dialer.accounts.users import open_session
from dialer.demo.data import seed
from dialer.storage.database import make_engine, session_factory, upgrade
from tests.test_demo_incoming import demo_serve
from tests.test_web_cli import BELBLOK, config_file
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, web_config


async def test_the_demo_runs_on_its_own_database_not_the_configured_one(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    cfg = config_file(tmp_path, f"sqlite:///{real}")
    async with demo_serve(tmp_path, cfg):
        pass  # started (and stopped with Ctrl-C, exit 0)
    assert not real.exists()  # the configured database was never touched
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'demo.db'}")
    with session_factory(engine)() as s:
        assert {(u.name, u.demo) for u in s.scalars(select(User))} == {("demo", True), ("chef", True)}
    engine.dispose()


async def test_the_demo_refuses_a_database_with_real_users(tmp_path: Path) -> None:
    demo_db = tmp_path / "var" / "demo.db"
    engine = make_engine(f"sqlite:///{demo_db}")
    upgrade(engine)
    add_account(engine, "anna", "agent")
    engine.dispose()
    cfg = config_file(tmp_path, f"sqlite:///{tmp_path / 'real.db'}")
    proc = await asyncio.create_subprocess_exec(
        BELBLOK, "--config", str(cfg), "serve", "--demo", "--port", "0", cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, (out, err)
    assert b"anna" in err and b"database of its own" in err


async def test_outside_the_demo_its_users_cannot_log_in(db_url: str, engine, tmp_path: Path,
                                                        make_client: MakeClient) -> None:
    now = datetime.now(UTC)
    with session_factory(engine).begin() as s:  # a normal serve pointed at the demo's database afterwards
        seed(s, now=now, today=now.date())
        chef = s.scalars(select(User).where(User.name == "chef")).one()
        cookie = open_session(s, chef, now=now, hours=12).token  # a session the demo had handed out
    add_account(engine, "anna", "agent", password="een lang wachtwoord")
    client = await make_client(web_config(db_url, tmp_path))
    refused = await client.post("/login", data={"username": "chef", "password": "demo"}, allow_redirects=False)
    assert refused.status == 401
    client.session.cookie_jar.update_cookies({"belblok_session": cookie})
    page = await client.get("/wallboard", allow_redirects=False)
    assert page.status in (302, 303) and "/login" in page.headers["Location"]
    client.session.cookie_jar.clear()
    ok = await client.post("/login", data={"username": "anna", "password": "een lang wachtwoord"},
                           allow_redirects=False)
    assert ok.status == 303
