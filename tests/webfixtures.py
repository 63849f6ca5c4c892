"""Web test fixtures: the real app from `create_app` on a real database, served by aiohttp's TestServer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlalchemy.engine import Engine

from dialer.accounts.models import User
from dialer.accounts.users import add_user, create_token, find_user
from dialer.demo.data import seed
from dialer.settings.config import Config, parse
from dialer.storage.database import session_factory
from web.app import create_app

__all__ = ["MakeClient", "SmtpSink", "add_account", "bearer", "csrf_of", "login", "make_client", "seeded", "smtp_sink",
           "web_config"]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"

MakeClient = Callable[..., Awaitable[TestClient]]


def web_config(db_url: str, tmp_path: Path, *, trunk: str = "127.0.0.1:9", extra: str = "",
               secure_cookies: bool = False, smtp_port: int | None = None, team: str = "") -> Config:
    """A test configuration on `db_url`; SMTP on 127.0.0.1:`smtp_port` if given."""
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nfrom_address = "debiteuren@belblok.example"\n' \
           'from_name = "Belblok Debiteuren"\ntimeout_s = 5\n' if smtp_port else ""
    return parse(f"""
[database]
url = "{db_url}"
[sip]
trunk = "{trunk}"
caller_id = "+31201234567"
response_timeout_s = 2
[recording]
dir = "{tmp_path / 'rec'}"
[web]
secure_cookies = {str(secure_cookies).lower()}
[team]
name = "Testteam"
{team}
{smtp}
{extra}
""")


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[MakeClient]:
    """Start the app for a config; every client and server is closed at the end of the test."""
    clients: list[TestClient] = []

    async def make(cfg: Config, **options: Any) -> TestClient:
        options.setdefault("config_dir", ROOT / "config")
        options.setdefault("outbox_dir", tmp_path / "outbox")
        app: web.Application = create_app(cfg, **options)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        await client.close()


def add_account(engine: Engine, name: str, role: str, password: str | None = PASSWORD, **fields: Any) -> None:
    """Create a user directly in the database."""
    with session_factory(engine).begin() as session:
        add_user(session, name, role, password, now=datetime.now(UTC), **fields)


def bearer(engine: Engine, name: str) -> dict[str, str]:
    """An Authorization header with a new token for an existing user."""
    with session_factory(engine).begin() as session:
        user = find_user(session, name)
        assert user is not None
        token = create_token(session, user, "test", now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


def seeded(engine: Engine) -> None:
    """The demo dossiers and users (demo/chef with password demo), the users as ordinary ones (not the demo's)."""
    with session_factory(engine).begin() as session:
        now = datetime.now(UTC)
        seed(session, now=now, today=now.date())
        session.execute(update(User).values(demo=False))


def csrf_of(html: str) -> str:
    """The CSRF token of a page (its meta tag)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    response = await client.post("/login", data={"username": name, "password": password}, allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await client.get("/dossiers")
    assert page.status == 200
    return csrf_of(await page.text())


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self, directory: Path) -> None:
        from aiosmtpd.controller import Controller

        from dialer.mail.mailer import OutboxHandler
        from softphone.processes import free_port

        self.handler = OutboxHandler(directory)
        self.port = free_port("tcp")
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Any]:
        """The accepted messages, parsed."""
        from email import policy
        from email.parser import BytesParser

        return [BytesParser(policy=policy.default).parsebytes(raw) for raw in self.handler.received]

    async def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[Any]:
        """Wait until `count` messages have arrived (polling the server's list while the loop runs)."""
        import asyncio

        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.handler.received) < count:
            assert asyncio.get_running_loop().time() < deadline, "no e-mail arrived in time"
            await asyncio.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Any:
    """A running SmtpSink; stopped after the test."""
    sink = SmtpSink(tmp_path / "smtp-received")
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()
