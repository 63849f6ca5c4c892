"""Failed-login limits per account and address (shared through the database), the login log, the argon2 gate."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

import web.views.login
from dialer.accounts.models import LoginEvent
from dialer.accounts.passwords import GateBusy, HashGate
from dialer.storage.database import session_factory
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import PASSWORD, MakeClient, add_account, login, web_config
from web.auth import _GATES

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def attempt(client, name: str, password: str, **extra: str):  # noqa: ANN001, ANN201
    return client.post("/login", data={"username": name, "password": password, **extra}, allow_redirects=False)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 check the login view asks for."""
    calls: list[str] = []
    real = web.views.login.check

    def check(stored: str, password: str):  # noqa: ANN202
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(web.views.login, "check", check)
    return calls


async def test_five_failures_lock_the_account_for_fifteen_minutes_before_any_hash(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, counted: list[str]) -> None:
    add_account(engine, "anna", "agent")
    clock = Clock()
    client = await make_client(web_config(db_url, tmp_path, team='language = "en"'), clock=clock)
    for _ in range(5):
        assert (await attempt(client, "anna", "wrong")).status == 401
        clock.now += timedelta(seconds=10)
    assert len(counted) == 5
    locked = await attempt(client, "anna", PASSWORD)  # even the right password waits
    assert locked.status == 429
    assert "Too many attempts, try again in 15 minutes." in await locked.text()
    assert int(locked.headers["Retry-After"]) == 15 * 60 - 50
    api = await client.post("/login", json={"username": "Anna", "password": PASSWORD})  # names case-folded
    assert api.status == 429 and int(api.headers["Retry-After"]) == 15 * 60 - 50
    assert (await api.json())["retry_after"] == 15 * 60 - 50
    assert len(counted) == 5  # refused before the hash was computed
    clock.now = START + timedelta(minutes=15)  # the first failure ages out
    assert (await attempt(client, "anna", PASSWORD)).status == 303


async def test_the_lockout_reads_in_dutch_on_a_dutch_login_page(engine: Engine, db_url: str, tmp_path: Path,
                                                                 make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path), clock=Clock())
    for _ in range(5):
        await attempt(client, "anna", "wrong")
    locked = await client.post("/login?lang=nl", data={"username": "anna", "password": PASSWORD},
                               allow_redirects=False)
    assert locked.status == 429
    assert "Te veel pogingen, probeer het over 15 minuten opnieuw." in await locked.text()


async def test_a_right_password_clears_the_account_failures(engine: Engine, db_url: str, tmp_path: Path,
                                                            make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path), clock=Clock())
    for _ in range(4):
        assert (await attempt(client, "anna", "wrong")).status == 401
    assert (await attempt(client, "anna", PASSWORD)).status == 303
    for _ in range(4):
        assert (await attempt(client, "anna", "wrong")).status == 401
    assert (await attempt(client, "anna", PASSWORD)).status == 303


async def test_one_address_trying_many_names_is_locked_too(engine: Engine, db_url: str, tmp_path: Path,
                                                           make_client: MakeClient, counted: list[str]) -> None:
    add_account(engine, "anna", "agent")
    cfg = web_config(db_url, tmp_path)
    cfg = cfg.model_copy(update={"web": cfg.web.model_copy(update={"login_max_failures_per_address": 3,
                                                                   "login_lockout_minutes": 5})})
    client = await make_client(cfg, clock=Clock())
    for name in ("bert", "carl", "dirk"):
        assert (await attempt(client, name, "guess")).status == 401
    refused = await attempt(client, "anna", PASSWORD)
    assert refused.status == 429 and "over 5 minuten" in await refused.text()
    assert len(counted) == 3


async def test_the_limits_hold_across_coordinators_on_one_database(engine: Engine, db_url: str, tmp_path: Path,
                                                                   make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    clock = Clock()
    first = await make_client(web_config(db_url, tmp_path), clock=clock)
    second = await make_client(web_config(db_url, tmp_path), clock=clock)
    for index in range(5):
        assert (await attempt((first, second)[index % 2], "anna", "wrong")).status == 401
    assert (await attempt(first, "anna", PASSWORD)).status == 429
    assert (await attempt(second, "anna", PASSWORD)).status == 429


async def test_logins_are_logged_with_user_address_and_time_never_the_password(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path), clock=Clock())
    with caplog.at_level(logging.INFO, logger="dialer.accounts"):
        await attempt(client, "anna", "s3cret-typo")
        await attempt(client, "nobody", "s3cret-other")
        await attempt(client, "anna", PASSWORD)
    records = [r for r in caplog.records if r.name.startswith("dialer.accounts")]
    messages = [r.getMessage() for r in records]
    assert len(messages) == 3
    assert all("127.0.0.1" in m and START.isoformat() in m for m in messages)
    assert "'anna'" in messages[0] and "wrong_password" in messages[0] and records[0].levelno == logging.WARNING
    assert "'nobody'" in messages[1] and "unknown_user" in messages[1]
    assert "login of 'anna'" in messages[2] and records[2].levelno == logging.INFO
    assert not any("s3cret" in m or PASSWORD in m for m in caplog.text.splitlines())
    with session_factory(engine)() as session:
        events = [(e.name, e.address, e.outcome, e.at)
                  for e in session.scalars(select(LoginEvent).order_by(LoginEvent.id))]
    assert events == [("anna", "127.0.0.1", "wrong_password", START), ("nobody", "127.0.0.1", "unknown_user", START),
                      ("anna", "127.0.0.1", "ok", START)]


async def test_supervisors_see_recent_failed_logins(engine: Engine, db_url: str, tmp_path: Path,
                                                    make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    add_account(engine, "sam", "supervisor")
    client = await make_client(web_config(db_url, tmp_path, team='language = "en"'))
    await attempt(client, "mallory<b>", "guess")
    await login(client, "sam")
    page = await client.get("/users")
    text = await page.text()
    assert page.status == 200 and "mallory&lt;b&gt;" in text and "127.0.0.1" in text
    agent = await make_client(web_config(db_url, tmp_path))
    await login(agent, "anna")
    assert (await agent.get("/users")).status == 403


async def test_the_argon2_gate_queues_a_few_checks_and_refuses_the_rest() -> None:
    gate = HashGate(workers=1, queue=1)
    release = threading.Event()
    running = threading.Event()

    def slow(value: int) -> int:
        running.set()
        release.wait(30)
        return value

    first = asyncio.ensure_future(gate.run(slow, 1))
    second = asyncio.ensure_future(gate.run(slow, 2))
    while gate.pending < 2:
        await asyncio.sleep(0)  # let both tasks enter the gate (no time passes)
    with pytest.raises(GateBusy):
        await gate.run(slow, 3)
    release.set()
    assert await asyncio.gather(first, second) == [1, 2]
    assert gate.pending == 0
    assert await gate.run(slow, 4) == 4
    gate.close()


async def test_a_login_flood_is_refused_with_503_instead_of_hashing(engine: Engine, db_url: str, tmp_path: Path,
                                                                    make_client: MakeClient,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    gate = _GATES[client.server.app] = HashGate(workers=1, queue=0)
    release, entered = threading.Event(), threading.Event()
    real = web.views.login.check

    def stuck(stored: str, password: str):  # noqa: ANN202
        entered.set()
        release.wait(30)
        return real(stored, password)

    monkeypatch.setattr(web.views.login, "check", stuck)
    pending = asyncio.ensure_future(attempt(client, "anna", PASSWORD))
    while gate.pending < 1:
        await asyncio.sleep(0.01)  # the first login reaches the gate through the test server
    flood = await attempt(client, "anna", "guess")
    assert flood.status == 503 and flood.headers["Retry-After"] == "1"
    release.set()
    assert (await pending).status == 303
    gate.close()
