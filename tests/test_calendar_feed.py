"""The calendar feed's address: built from the configured public URL, revocable per agent."""

from __future__ import annotations

from pathlib import Path

from yarl import URL

from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config


async def test_a_revoked_address_stops_and_the_new_one_works(engine, db_url: str, tmp_path: Path,
                                                             make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    auth = bearer(engine, "demo")
    old = URL((await (await client.get("/api/v1/calendar", headers=auth)).json())["url"])
    assert (await client.get(old.path_qs)).status == 200
    revoked = await client.post("/api/v1/calendar/revoke", headers=auth)
    assert revoked.status == 200, await revoked.text()
    new = URL((await revoked.json())["url"])
    assert new != old
    assert (await client.get(old.path_qs)).status == 404
    feed = await client.get(new.path_qs)
    assert feed.status == 200 and feed.content_type == "text/calendar"
    assert URL((await (await client.get("/api/v1/calendar", headers=auth)).json())["url"]) == new


async def test_the_address_comes_from_the_public_url_never_the_host_header(engine, db_url: str, tmp_path: Path,
                                                                          make_client: MakeClient) -> None:
    seeded(engine)
    cfg = web_config(db_url, tmp_path)
    public = cfg.model_copy(update={"web": cfg.web.model_copy(update={"public_url": "https://belblok.example.nl"})})
    headers = {**bearer(engine, "demo"), "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    client = await make_client(public)
    url = (await (await client.get("/api/v1/calendar", headers=headers)).json())["url"]
    assert url.startswith("https://belblok.example.nl/calendar/demo.ics?token=") and "evil" not in url
    plain = await make_client(cfg)
    url = (await (await plain.get("/api/v1/calendar", headers=headers)).json())["url"]
    assert url.startswith("/calendar/demo.ics?token=")  # a path only: nothing taken from the request


def test_a_public_url_that_is_not_an_address_is_refused() -> None:
    import pytest

    from dialer.settings.config import ConfigError, parse

    with pytest.raises(ConfigError, match="public_url"):
        parse('[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n[web]\npublic_url = "belblok.nl?x=1"\n')
