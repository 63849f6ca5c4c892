"""Redirects back after login and the language switch stay on this site; a bad login body is a clear 400."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import PASSWORD, MakeClient, add_account, login, web_config
from web.redirects import local_path

ESCAPES = ["//evil.example", "/\\evil.example", "/\t/evil.example", "/%09/evil.example", "https://evil.example",
           "http:/evil.example", "/x\r\nSet-Cookie: a=b", "/%0d%0aSet-Cookie:a=b", " /x", "/ /evil.example",
           "/%5cevil.example", "/%2F%2Fevil.example", "/%252F%252Fevil.example", "/\u2028/evil", "/%E2%80%A8/evil",
           "evil.example", "", "javascript:alert(1)", "/\x00x"]


@pytest.mark.parametrize("target", ESCAPES)
def test_anything_but_a_local_path_goes_home(target: str) -> None:
    assert local_path(target) == "/"


@pytest.mark.parametrize("target", ["/dossiers", "/dossiers/D-1001#c-calls", "/dossiers?q=van%20dijk",
                                    "/recordings?agent=anna&page=2"])
def test_a_local_path_is_kept(target: str) -> None:
    assert local_path(target) == target


def test_non_ascii_in_a_path_is_escaped_for_the_header() -> None:
    assert local_path("/dossiers/Ö") == "/dossiers/%C3%96"


async def test_login_does_not_send_the_browser_to_another_site(engine: Engine, db_url: str, tmp_path: Path,
                                                               make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    form = await client.get("/login", params={"next": "/\t/evil.example"})
    assert 'name="next" value="/"' in await form.text()
    for target in ("/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "/x\r\nA: b"):
        response = await client.post("/login", data={"username": "anna", "password": PASSWORD, "next": target},
                                     allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/", target
    kept = await client.post("/login", data={"username": "anna", "password": PASSWORD, "next": "/outbox"},
                             allow_redirects=False)
    assert kept.headers["Location"] == "/outbox"


async def test_the_language_switch_does_not_either(engine: Engine, db_url: str, tmp_path: Path,
                                                   make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "anna")
    for target, expected in (("/%09/evil.example", "/"), ("//evil.example", "/"), ("/tasks?x=1", "/tasks?x=1")):
        response = await client.post("/language", data={"language": "en", "csrf_token": csrf, "next": target},
                                     allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == expected, target


async def test_a_login_body_that_is_not_a_json_object_is_a_clear_400(engine: Engine, db_url: str, tmp_path: Path,
                                                                     make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    json_type = {"Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b'"anna"', b"42", b"[" * 100_000, b'{"username": ["anna"], "password": 1}'):
        response = await client.post("/login", data=body, headers=json_type)
        assert response.status == 400, body[:20]
        assert (await response.json())["error"]
    ok = await client.post("/login", json={"username": "anna", "password": PASSWORD})
    assert ok.status == 200 and (await ok.json())["ok"] is True
