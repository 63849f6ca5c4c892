"""Calling sessions and blocks in the panel: refused outside a block, a preview inside one, supervisors edit blocks."""

from __future__ import annotations

from pathlib import Path

from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, bearer, login, seeded, web_config

ALWAYS = ('name = "always"\n[window]\ndays = ["mon","tue","wed","thu","fri","sat","sun"]\n'
          'start = "00:00"\nend = "23:59"\nholidays = ""\n')


def _config(db_url: str, tmp_path: Path, *, blocks: str):
    pack = tmp_path / "always.toml"
    pack.write_text(ALWAYS)
    return web_config(db_url, tmp_path, team=f'policy = "{pack}"\ncountry = "NL"\ntimezone = "Europe/Amsterdam"',
                      extra=blocks)


ALL_DAY = '[[blocks]]\ndays = ["mon","tue","wed","thu","fri","sat","sun"]\nstart = "00:00"\nend = "23:59"\n'
NEVER_TODAY = ""  # no configured blocks at all


async def test_outside_a_block_a_session_is_refused_with_a_message(db_url: str, engine, tmp_path: Path,
                                                                  make_client: MakeClient) -> None:
    seeded(engine)
    add_account(engine, "anna", "agent")
    client = await make_client(_config(db_url, tmp_path, blocks=NEVER_TODAY))
    response = await client.post("/api/v1/session/start", json={"mode": "preview"}, headers=bearer(engine, "anna"))
    assert response.status == 409
    assert "outside a calling block" in (await response.json())["error"]
    assert (await (await client.get("/api/v1/session", headers=bearer(engine, "anna"))).json()) == {"session": None}
    await login(client, "anna")  # pages take a login session, not a token
    page = await client.get("/session")
    assert page.status == 200 and "/session/start" in await page.text()


async def test_in_a_block_the_session_previews_the_head_of_the_queue(db_url: str, engine, tmp_path: Path,
                                                                    make_client: MakeClient) -> None:
    seeded(engine)
    add_account(engine, "anna", "agent")
    client = await make_client(_config(db_url, tmp_path, blocks=ALL_DAY))
    auth = bearer(engine, "anna")
    started = await client.post("/api/v1/session/start", json={"mode": "preview"}, headers=auth)
    assert started.status == 200, await started.text()
    state = (await started.json())["session"]
    assert (state["mode"], state["state"]) == ("preview", "ready"), state
    entry = state["entry"]
    assert entry["kind"] in ("callback", "return", "follow_up", "retry", "new")
    assert entry["number"].startswith("+") and entry["reason"]
    queue = await (await client.get("/api/v1/session", headers=auth)).json()
    assert queue["session"]["entry"]["debtor"] == entry["debtor"]
    await login(client, "anna")
    page = await client.get("/session")
    assert page.status == 200 and entry["debtor"] in await page.text()
    paused = await client.post("/api/v1/session/pause", headers=auth)
    assert (await paused.json())["session"]["state"] == "paused"
    ended = await client.post("/api/v1/session/end", headers=auth)
    assert (await ended.json())["session"]["state"] == "ended"
    blocks = await (await client.get("/api/v1/blocks", headers=auth)).json()
    assert blocks["current"] is not None and blocks["blocks"][0]["next_open"]


async def test_supervisors_edit_blocks_agents_may_not(db_url: str, engine, tmp_path: Path,
                                                     make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    add_account(engine, "chef", "supervisor")
    client = await make_client(_config(db_url, tmp_path, blocks=ALL_DAY))
    token = await login(client, "anna")
    refused = await client.post("/blocks", data={"csrf_token": token, "kind": "one_off", "on": "2026-12-01",
                                                 "start": "09:00", "end": "10:00"}, allow_redirects=False)
    assert refused.status == 403
    client.session.cookie_jar.clear()
    token = await login(client, "chef")
    added = await client.post("/blocks", data={"csrf_token": token, "kind": "one_off", "on": "2026-12-01",
                                               "start": "09:00", "end": "10:00", "note": "extra"},
                              allow_redirects=False)
    assert added.status == 303
    bad = await client.post("/blocks", data={"csrf_token": token, "kind": "weekly", "start": "25:00",
                                             "end": "10:00"}, allow_redirects=False)
    assert bad.status == 303 and "error=" in bad.headers["Location"]
    page = await (await client.get("/blocks")).text()
    assert "2026-12-01" in page
    blocks = await (await client.get("/api/v1/blocks", headers=bearer(engine, "chef"))).json()
    assert any(b["kind"] == "one_off" and b["date"] == "2026-12-01" for b in blocks["blocks"])


PAUSE_CODES = ('[[pause_codes]]\ncode = "lunch"\nlabel_nl = "Lunch"\nlabel_en = "Lunch"\n'
               '[[pause_codes]]\ncode = "coaching"\nlabel_nl = "Coaching"\nlabel_en = "Coaching"\n')


async def test_the_session_pauses_with_a_reason_the_floor_keeps(db_url: str, engine, tmp_path: Path,
                                                                make_client: MakeClient) -> None:
    seeded(engine)
    add_account(engine, "anna", "agent")
    client = await make_client(_config(db_url, tmp_path, blocks=ALL_DAY + PAUSE_CODES))
    auth = bearer(engine, "anna")
    assert (await client.post("/api/v1/session/start", json={"mode": "preview"}, headers=auth)).status == 200
    await login(client, "anna")
    page = await (await client.get("/session")).text()
    assert 'id="session-pause"' in page and '<option value="coaching">' in page  # a reason to choose
    unknown = await client.post("/api/v1/session/pause", json={"code": "nap"}, headers=auth)
    assert unknown.status == 400 and (await unknown.json())["reason"] == "unknown_code"
    assert (await (await client.get("/api/v1/session", headers=auth)).json())["session"]["state"] == "ready"
    paused = await client.post("/api/v1/session/pause", json={"code": "coaching"}, headers=auth)
    assert paused.status == 200, await paused.text()
    assert (await paused.json())["session"]["state"] == "paused"
    state = await (await client.get("/api/v1/agent/state", headers=auth)).json()
    assert (state["state"], state["code"]) == ("paused", "coaching")
    assert 'id="session-pause"' not in await (await client.get("/session")).text()
    resumed = await client.post("/api/v1/session/resume", headers=auth)
    assert (await resumed.json())["session"]["state"] == "ready"
    assert (await (await client.get("/api/v1/agent/state", headers=auth)).json())["state"] == "ready"
