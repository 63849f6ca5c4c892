"""Logging in, sessions and their cookies, CSRF, roles, and what an anonymous request gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dialer.accounts.models import LoginSession, User
from dialer.dossiers.casework import Note
from dialer.storage.database import session_factory
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import (
    PASSWORD,
    MakeClient,
    add_account,
    bearer,
    login,
    seeded,
    web_config,
)


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_login_with_the_right_password_opens_the_panel(engine: Engine, db_url: str, tmp_path: Path,
                                                             make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    response = await client.post("/login", data={"username": "anna", "password": PASSWORD, "next": "/outbox"},
                                 allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/outbox"
    token = response.cookies["belblok_session"].value
    with session_factory(engine)() as session:
        stored = session.scalars(select(LoginSession)).one()
    assert stored.token_sha256 != token and len(stored.token_sha256) == 64  # only the hash is kept
    page = await client.get("/dossiers")
    assert page.status == 200 and "anna" in await page.text()


async def test_a_wrong_password_or_unknown_user_is_refused(engine: Engine, db_url: str, tmp_path: Path,
                                                           make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    for name, password in (("anna", "wrong"), ("nobody", PASSWORD), ("anna", "")):
        response = await client.post("/login", data={"username": name, "password": password},
                                     allow_redirects=False)
        assert response.status == 401
        assert "belblok_session" not in response.cookies
    assert count(engine, LoginSession) == 0
    assert (await client.get("/dossiers", allow_redirects=False)).status == 303


async def test_the_session_cookie_is_secure_http_only_and_same_site(engine: Engine, db_url: str, tmp_path: Path,
                                                                    make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path, secure_cookies=True))
    response = await client.post("/login", data={"username": "anna", "password": PASSWORD}, allow_redirects=False)
    header = next(h for h in response.headers.getall("Set-Cookie") if h.startswith("belblok_session="))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}
    assert "httponly" in flags and "secure" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert flags["path"] == "Path=/"


async def test_secure_cookies_can_be_turned_off_for_plain_http(engine: Engine, db_url: str, tmp_path: Path,
                                                               make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path, secure_cookies=False))
    response = await client.post("/login", data={"username": "anna", "password": PASSWORD}, allow_redirects=False)
    header = next(h for h in response.headers.getall("Set-Cookie") if h.startswith("belblok_session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header


async def test_anonymous_pages_redirect_to_login_and_the_api_answers_401(engine: Engine, db_url: str,
                                                                         tmp_path: Path,
                                                                         make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    for path in ("/", "/dossiers", "/dossiers/D-1001", "/outbox", "/tasks"):
        response = await client.get(path, allow_redirects=False)
        assert response.status in (302, 303), path
        assert response.headers["Location"].startswith("/login?next=")
    for path in ("/api/v1/debtors/D-1001", "/api/v1/debtors", "/api/v1/openapi.json", "/ws"):
        response = await client.get(path)
        assert response.status == 401, path
        assert "error" in await response.json()
    response = await client.post("/api/v1/notes", json={"debtor_ref": "D-1001", "text": "x"})
    assert response.status == 401
    assert (await client.get("/login")).status == 200
    assert (await client.get("/static/app.css")).status == 200
    bad = await client.get("/api/v1/debtors/D-1001", headers={"Authorization": "Bearer nonsense"})
    assert bad.status == 401


async def test_forged_or_missing_csrf_tokens_are_refused_and_nothing_is_written(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    seeded(engine)
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "anna")
    note = {"debtor_ref": "D-1001", "text": "Belt terug na de lunch"}
    assert (await client.post("/api/v1/notes", json=note)).status == 403
    assert (await client.post("/api/v1/notes", json=note, headers={"X-CSRF-Token": "forged"})).status == 403
    assert (await client.post("/api/v1/wrapups", json={"debtor_ref": "D-1001", "outcome": "no_contact"})).status == 403
    assert (await client.post("/language", data={"language": "en", "next": "/dossiers"},
                              allow_redirects=False)).status == 403
    assert (await client.post("/language", data={"language": "en", "csrf_token": "forged"},
                              allow_redirects=False)).status == 403
    assert (await client.post("/logout", data={}, allow_redirects=False)).status == 403
    assert count(engine, Note) == 0
    with session_factory(engine)() as session:
        assert session.scalar(select(User.language).where(User.name == "anna")) is None
    assert (await client.get("/dossiers", allow_redirects=False)).status == 200  # still logged in
    # A cross-site form post (another Origin) is refused even with the right token.
    evil = await client.post("/api/v1/notes", json=note, headers={"X-CSRF-Token": csrf,
                                                                  "Origin": "https://evil.example"})
    assert evil.status == 403
    assert (await client.post("/api/v1/notes", json=note, headers={"X-CSRF-Token": csrf})).status == 201
    switched = await client.post("/language", data={"language": "en", "csrf_token": csrf, "next": "/dossiers"},
                                 allow_redirects=False)
    assert switched.status == 303
    assert count(engine, Note) == 1


async def test_logout_ends_the_server_side_session(engine: Engine, db_url: str, tmp_path: Path,
                                                   make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "anna")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["belblok_session"].value
    response = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert response.status == 303
    assert count(engine, LoginSession) == 0
    replay = await client.get("/dossiers", allow_redirects=False, cookies={"belblok_session": cookie})
    assert replay.status == 303


async def test_an_expired_session_is_not_accepted(engine: Engine, db_url: str, tmp_path: Path,
                                                  make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    now = [datetime.now(UTC)]
    client = await make_client(web_config(db_url, tmp_path), clock=lambda: now[0])
    await login(client, "anna")
    now[0] += timedelta(hours=13)  # [web] session_hours defaults to 12
    assert (await client.get("/dossiers", allow_redirects=False)).status == 303


async def test_an_agent_may_not_use_supervisor_routes(engine: Engine, db_url: str, tmp_path: Path,
                                                      make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    add_account(engine, "sam", "supervisor")
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "anna")
    assert (await client.get("/tasks")).status == 403
    response = await client.post("/api/v1/imports/debtors", data=b"ref;name\nD-9;X\n",
                                 headers={"X-CSRF-Token": csrf, "Content-Type": "text/csv"})
    assert response.status == 403
    agent_token = await client.post("/api/v1/imports/debtors", data=b"ref;name\nD-9;X\n",
                                    headers={**bearer(engine, "anna"), "Content-Type": "text/csv"})
    assert agent_token.status == 403
    chef = await make_client(web_config(db_url, tmp_path))
    await login(chef, "sam")
    assert (await chef.get("/tasks")).status == 200


async def test_a_bearer_token_acts_as_its_user_without_csrf(engine: Engine, db_url: str, tmp_path: Path,
                                                            make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    response = await client.get("/api/v1/debtors/D-1001", headers=headers)
    assert response.status == 200 and (await response.json())["debtor"]["ref"] == "D-1001"
    saved = await client.post("/api/v1/notes", json={"debtor_ref": "D-1001", "text": "via de API"}, headers=headers)
    assert saved.status == 201 and (await saved.json())["author"] == "demo"


async def test_the_plain_notes_form_needs_its_csrf_field(engine: Engine, db_url: str, tmp_path: Path,
                                                         make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "demo", "demo")
    page = await (await client.get("/dossiers/D-1001")).text()
    assert 'action="/dossiers/D-1001/notes"' in page and f'name="csrf_token" value="{csrf}"' in page
    refused = await client.post("/dossiers/D-1001/notes", data={"text": "vergeten token"}, allow_redirects=False)
    forged = await client.post("/dossiers/D-1001/notes", data={"text": "vals", "csrf_token": csrf[::-1]},
                               allow_redirects=False)
    assert refused.status == forged.status == 403
    assert count(engine, Note) == 0
    saved = await client.post("/dossiers/D-1001/notes", data={"text": "Belt morgen terug", "csrf_token": csrf},
                              allow_redirects=False)
    assert saved.status == 303 and saved.headers["Location"].startswith("/dossiers/D-1001")
    assert count(engine, Note) == 1
