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
