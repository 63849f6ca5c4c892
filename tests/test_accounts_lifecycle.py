"""Users and tokens after `user add`: the commands, the account and users pages, tokens for the API only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dialer.accounts.models import ApiToken, LoginSession, User
from dialer.accounts.users import create_token, find_user
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Note
from dialer.dossiers.parties import Debtor
from dialer.storage.database import session_factory
from tests.conftest import run_cli
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import PASSWORD, MakeClient, add_account, bearer, login, seeded, web_config


@asynccontextmanager
async def browser(client: TestClient) -> AsyncIterator[aiohttp.ClientSession]:
    """A second browser (its own cookies) on the same coordinator as `client`."""
    async with aiohttp.ClientSession(base_url=client.make_url("/"), cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield http


def config_file(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "belblok.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'
                    f'[recording]\ndir = "{tmp_path / "rec"}"\n')
    return str(path)


def belblok(cfg: str, *args: str, tmp_path: Path, stdin: str = ""):  # noqa: ANN201
    import subprocess
    import sys

    return subprocess.run([str(Path(sys.executable).with_name("belblok")), "--config", cfg, *args], input=stdin,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)


def count(engine: Engine, query) -> int:  # noqa: ANN001
    with session_factory(engine)() as session:
        return int(session.scalar(query) or 0)


def open_session_and_token(engine: Engine, name: str) -> None:
    """A login session and a token of `name`, as a browser and an API client would have them."""
    from dialer.accounts.users import open_session

    with session_factory(engine).begin() as session:
        user = find_user(session, name)
        assert user is not None
        open_session(session, user, now=datetime.now(UTC), hours=12)
        create_token(session, user, "client", now=datetime.now(UTC))


def live_tokens(engine: Engine, name: str) -> int:
    return count(engine, select(func.count()).select_from(ApiToken).join(User, User.id == ApiToken.user_id)
                 .where(User.name == name, ApiToken.revoked_at.is_(None)))


def sessions_of(engine: Engine, name: str) -> int:
    return count(engine, select(func.count()).select_from(LoginSession).join(User, User.id == LoginSession.user_id)
                 .where(User.name == name))


async def test_disable_and_passwd_end_sessions_and_tokens_and_enable_lets_in_again(
        tmp_path: Path, db_url: str, engine: Engine, make_client: MakeClient) -> None:
    cfg = config_file(tmp_path, db_url)
    add_account(engine, "anna", "agent")
    open_session_and_token(engine, "anna")
    disabled = belblok(cfg, "user", "disable", "anna", tmp_path=tmp_path)
    assert disabled.returncode == 0, disabled.stderr
    assert sessions_of(engine, "anna") == 0 and live_tokens(engine, "anna") == 0
    listing = belblok(cfg, "user", "list", tmp_path=tmp_path).stdout.splitlines()
    assert listing == ["anna\tagent\tdisabled\t-\t-\t-"]
    client = await make_client(web_config(db_url, tmp_path))
    refused = await client.post("/login", data={"username": "anna", "password": PASSWORD}, allow_redirects=False)
    assert refused.status == 401
    assert belblok(cfg, "user", "enable", "anna", tmp_path=tmp_path).returncode == 0
    await login(client, "anna")
    open_session_and_token(engine, "anna")
    empty = belblok(cfg, "user", "passwd", "anna", tmp_path=tmp_path, stdin="\n")
    assert empty.returncode == 2 and "must not be empty" in empty.stderr
    assert belblok(cfg, "user", "passwd", "nobody", tmp_path=tmp_path, stdin="x\n").returncode == 2
    changed = belblok(cfg, "user", "passwd", "anna", tmp_path=tmp_path, stdin="een nieuw wachtwoord\n")
    assert changed.returncode == 0, changed.stderr
    assert sessions_of(engine, "anna") == 0 and live_tokens(engine, "anna") == 0
    fresh = await make_client(web_config(db_url, tmp_path))  # a coordinator without cached logins
    assert (await fresh.get("/dossiers", allow_redirects=False)).status == 303
    old = await fresh.post("/login", data={"username": "anna", "password": PASSWORD}, allow_redirects=False)
    assert old.status == 401
    await login(fresh, "anna", "een nieuw wachtwoord")
    assert belblok(cfg, "user", "list", tmp_path=tmp_path).stdout.split("\t")[2] == "enabled"


def test_delete_is_refused_while_the_user_owns_pending_call_backs_unless_reassigned(
        tmp_path: Path, db_url: str, engine: Engine) -> None:
    cfg = config_file(tmp_path, db_url)
    for name in ("anna", "bert", "carl"):
        add_account(engine, name, "agent")
    now = datetime.now(UTC)
    with session_factory(engine).begin() as session:
        debtor = Debtor(ref="D-1", name="Kapper", created_at=now, updated_at=now)
        session.add(debtor)
        session.flush()
        session.add_all([Callback(debtor_id=debtor.id, kind="appointment", due_at=now + timedelta(days=1),
                                  agent="anna", status=status, created_at=now) for status in ("pending", "done")])
    open_session_and_token(engine, "anna")
    refused = belblok(cfg, "user", "delete", "anna", tmp_path=tmp_path)
    assert refused.returncode == 2 and "1 pending call-back" in refused.stderr and "--reassign" in refused.stderr
    assert belblok(cfg, "user", "disable", "carl", tmp_path=tmp_path).returncode == 0
    to_disabled = belblok(cfg, "user", "delete", "anna", "--reassign", "carl", tmp_path=tmp_path)
    assert to_disabled.returncode == 2 and "disabled" in to_disabled.stderr
    to_nobody = belblok(cfg, "user", "delete", "anna", "--reassign", "nobody", tmp_path=tmp_path)
    assert to_nobody.returncode == 2 and "no user named 'nobody'" in to_nobody.stderr
    with session_factory(engine)() as session:  # nothing half-written
        assert find_user(session, "anna") is not None
        assert sorted(session.scalars(select(Callback.agent))) == ["anna", "anna"]
    moved = belblok(cfg, "user", "delete", "anna", "--reassign", "bert", tmp_path=tmp_path)
    assert moved.returncode == 0, moved.stderr
    with session_factory(engine)() as session:
        assert find_user(session, "anna") is None
        assert sorted(session.execute(select(Callback.agent, Callback.status)).all()) == [
            ("anna", "done"), ("bert", "pending")]
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert belblok(cfg, "user", "delete", "carl", tmp_path=tmp_path).returncode == 0  # owns nothing


async def test_tokens_default_to_agent_expire_are_listed_and_revoked(tmp_path: Path, db_url: str, engine: Engine,
                                                                     make_client: MakeClient) -> None:
    cfg = config_file(tmp_path, db_url)
    created = run_cli("--config", cfg, "token", "create", "robot", "--expires", "30", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    robot = created.stdout.strip().splitlines()[-1]
    second = belblok(cfg, "token", "create", "robot", tmp_path=tmp_path).stdout.strip().splitlines()[-1]
    assert belblok(cfg, "token", "create", "x", "--expires", "0", tmp_path=tmp_path).returncode == 2
    with session_factory(engine)() as session:
        user = find_user(session, "robot")
        assert user is not None and user.role == "agent"
        expiry = session.scalar(select(ApiToken.expires_at).where(ApiToken.id == 1))
    assert expiry is not None and timedelta(days=29) < expiry - datetime.now(UTC) <= timedelta(days=30)
    rows = [line.split("\t") for line in belblok(cfg, "token", "list", tmp_path=tmp_path).stdout.splitlines()]
    assert [tuple(r[:4]) for r in rows] == [("1", "robot", "agent", "active"), ("2", "robot", "agent", "active")]
    assert robot not in "".join(map("".join, rows))
    now = [datetime.now(UTC)]
    client = await make_client(web_config(db_url, tmp_path), clock=lambda: now[0])
    assert (await client.get("/api/v1/debtors", headers={"Authorization": f"Bearer {robot}"})).status == 200
    now[0] += timedelta(days=31)  # the first token has expired; the cache trusts a token for at most 10 s
    late = await (await make_client(web_config(db_url, tmp_path), clock=lambda: now[0])).get(
        "/api/v1/debtors", headers={"Authorization": f"Bearer {robot}"})
    assert late.status == 401 and "WWW-Authenticate" in late.headers and "headers" not in await late.text()
    one = belblok(cfg, "token", "revoke", "robot", "--id", "2", tmp_path=tmp_path)
    assert one.returncode == 0 and "1 token(s)" in one.stdout
    fresh = await make_client(web_config(db_url, tmp_path))
    assert (await fresh.get("/api/v1/debtors", headers={"Authorization": f"Bearer {second}"})).status == 401
    states = [line.split("\t")[3] for line in belblok(cfg, "token", "list", tmp_path=tmp_path).stdout.splitlines()]
    assert states == ["active", "revoked"]  # the expired one reads as expired only once it is (by the real clock)
    assert belblok(cfg, "token", "revoke", "nobody", tmp_path=tmp_path).returncode == 2


async def test_bearer_tokens_open_the_api_but_no_page_or_form(engine: Engine, db_url: str, tmp_path: Path,
                                                              make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    token = bearer(engine, "chef")
    assert (await client.get("/api/v1/debtors/D-1001", headers=token)).status == 200
    for path in ("/dossiers/D-1001", "/dossiers", "/tasks", "/users", "/account", "/wallboard"):
        response = await client.get(path, headers=token, allow_redirects=False)
        assert response.status == 401, path
    note = await client.post("/dossiers/D-1001/notes", data={"text": "via een token"}, headers=token,
                             allow_redirects=False)
    disable = await client.post("/users/demo/disable", headers=token, allow_redirects=False)
    assert note.status == disable.status == 401
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 0
        assert session.scalar(select(User.enabled).where(User.name == "demo")) is True


async def test_a_user_changes_their_own_password_in_the_panel(engine: Engine, db_url: str, tmp_path: Path,
                                                              make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "anna")
    token = bearer(engine, "anna")
    page = await client.get("/account")
    assert page.status == 200 and 'name="current_password"' in await page.text()
    assert 'href="/account"' in await (await client.get("/dossiers")).text()
    form = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": "nieuw geheim",
            "repeat_password": "nieuw geheim"}
    no_csrf = await client.post("/account", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert no_csrf.status == 403
    wrong = await client.post("/account", data={**form, "current_password": "fout"})
    assert wrong.status == 400 and "Het huidige wachtwoord klopt niet." in await wrong.text()
    differ = await client.post("/account", data={**form, "repeat_password": "anders"})
    assert differ.status == 400
    empty = await client.post("/account", data={**form, "new_password": "", "repeat_password": ""})
    assert empty.status == 400
    async with browser(client) as other:
        await login(other, "anna")  # type: ignore[arg-type]
        assert (await client.get("/api/v1/debtors", headers=token)).status == 200
        done = await client.post("/account", data=form, allow_redirects=False)
        assert done.status == 303 and done.headers["Location"] == "/account?changed=1"
        assert (await client.get("/account?changed=1")).status == 200  # this browser stays in
        assert sessions_of(engine, "anna") == 1 and live_tokens(engine, "anna") == 0
        assert (await client.get("/api/v1/debtors", headers=token)).status == 401  # at once, on this coordinator
        assert (await other.get("/dossiers", allow_redirects=False)).status == 303  # the other browser is out
    fresh = await make_client(web_config(db_url, tmp_path))
    await login(fresh, "anna", "nieuw geheim")


async def test_admins_disable_and_enable_users_supervisors_only_look(engine: Engine, db_url: str, tmp_path: Path,
                                                                     make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    add_account(engine, "sam", "supervisor")
    add_account(engine, "ada", "admin")
    sam = await make_client(web_config(db_url, tmp_path))
    sam_csrf = await login(sam, "sam")
    listing = await (await sam.get("/users")).text()
    assert "anna" in listing and "/users/anna/disable" not in listing
    assert (await sam.post("/users/anna/disable", data={"csrf_token": sam_csrf})).status == 403
    ada = await make_client(web_config(db_url, tmp_path))
    ada_csrf = await login(ada, "ada")
    async with browser(ada) as anna:
        await _disable_and_enable(ada, anna, ada_csrf)


async def _disable_and_enable(ada: TestClient, anna: aiohttp.ClientSession, ada_csrf: str) -> None:
    await login(anna, "anna")  # type: ignore[arg-type]
    page = await (await ada.get("/users")).text()
    assert 'action="/users/anna/disable"' in page and 'action="/users/ada/' not in page
    assert (await ada.post("/users/ada/disable", data={"csrf_token": ada_csrf})).status == 400
    assert (await ada.post("/users/nobody/disable", data={"csrf_token": ada_csrf})).status == 404
    done = await ada.post("/users/anna/disable", data={"csrf_token": ada_csrf}, allow_redirects=False)
    assert done.status == 303
    assert (await anna.get("/dossiers", allow_redirects=False)).status == 303  # her session ended at once
    assert 'action="/users/anna/enable"' in await (await ada.get("/users")).text()
    assert (await ada.post("/users/anna/enable", data={"csrf_token": ada_csrf}, allow_redirects=False)).status == 303
    await login(anna, "anna")
    last = (await (await ada.get("/users")).text())
    assert "nooit" not in last.split("anna", 1)[1].split("</tr>", 1)[0]  # a last login is shown
