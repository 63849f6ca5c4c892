"""Listening in from the wallboard: supervisors only, clear refusals, and the buttons in a real browser."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.accounts.models import User
from dialer.calllog.monitoring import log_action
from dialer.live.events import LiveEvent
from dialer.recordings.model import Recording
from tests.test_web_browser import browser, signed_in  # noqa: F401
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config
from web.keys import CLOCK, HUB


async def test_only_supervisors_monitor_and_refusals_say_why(engine: Engine, db_url: str, tmp_path: Path,
                                                             make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    agent, chef = bearer(engine, "demo"), bearer(engine, "chef")
    assert (await client.post("/api/v1/agents/anna/monitor", json={"mode": "listen"}, headers=agent)).status == 403
    bad = await client.post("/api/v1/agents/anna/monitor", json={"mode": "shout"}, headers=chef)
    assert bad.status == 400 and (await bad.json())["field"] == "mode"
    assert (await client.post("/api/v1/agents/anna/monitor", json=["listen"], headers=chef)).status == 400
    idle = await client.post("/api/v1/agents/anna/monitor", json={"mode": "listen"}, headers=chef)
    assert idle.status == 409 and "not on a call" in (await idle.json())["error"]

    with Session(engine) as s, s.begin():
        log_action(s, attempt_id=7, supervisor="chef", agent="anna", action="barge", at=client.app[CLOCK]())
    assert (await client.get("/api/v1/attempts/7/monitoring", headers=agent)).status == 403
    log = await (await client.get("/api/v1/attempts/7/monitoring", headers=chef)).json()
    assert [(a["supervisor"], a["action"]) for a in log["actions"]] == [("chef", "barge")]


async def test_the_wallboard_offers_listening_in_while_an_agent_talks(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, browser: Browser) -> None:  # noqa: F811
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    page, errors = await signed_in(browser, client, "/wallboard", "chef", viewport={"width": 1920, "height": 1080})
    await expect(page.locator("#wallboard")).to_have_attribute("data-live", "up")
    app = client.app
    app[HUB].publish(LiveEvent(agent="demo", kind="answered", at=app[CLOCK](), debtor_ref="D-1001", attempt_id=1))
    tile = page.locator("li[data-agent=demo]")
    await expect(tile).to_have_attribute("data-state", "talking")
    listen = tile.locator("button[data-mode=listen]")
    await expect(listen).to_be_visible()
    await expect(tile.locator("button[data-mode=stop]")).to_be_hidden()

    await listen.click()  # chef has no phone of their own yet
    message = page.locator("#wb-monitor-msg")
    await expect(message).to_have_attribute("data-problem", "true")
    await expect(message).to_contain_text("geen telefoon")

    with Session(engine) as s, s.begin():
        s.execute(update(User).where(User.name == "chef").values(agent_line="sip:chef@127.0.0.1:9"))
    page, errors = await signed_in(browser, client, "/wallboard", "chef", viewport={"width": 1920, "height": 1080})
    await expect(page.locator("li[data-agent=demo]")).to_have_attribute("data-state", "talking")
    await page.locator("li[data-agent=demo] button[data-mode=whisper]").click()
    # The agent's desk is not on this coordinator (no call was placed here): the server's reason is shown.
    await expect(page.locator("#wb-monitor-msg")).to_contain_text("not on a call")
    await expect(page.locator("li[data-agent=demo]")).to_have_attribute("data-monitor", "")
    assert errors == []


async def test_the_agent_sees_that_a_supervisor_is_on_the_call(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, browser: Browser) -> None:  # noqa: F811
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    page, errors = await signed_in(browser, client, "/dossiers/D-1001", "demo")
    await expect(page.locator("#call")).to_have_attribute("data-live", "up")
    app, notice = client.app, page.locator("#call-monitored")
    await expect(notice).to_be_hidden()
    app[HUB].publish(LiveEvent(agent="demo", kind="monitor", at=app[CLOCK](), debtor_ref="D-1001",
                               detail={"mode": "whisper", "supervisor": "chef"}))
    await expect(notice).to_be_visible()
    await expect(notice).to_have_text("chef luistert mee en kan tegen u praten; de debiteur hoort dat niet.")
    await page.reload()  # the notice comes back with the page: the hub keeps who is on the call
    await expect(page.locator("#call")).to_have_attribute("data-live", "up")
    await expect(notice).to_be_visible()
    app[HUB].publish(LiveEvent(agent="demo", kind="monitor", at=app[CLOCK](), debtor_ref="D-1001",
                               detail={"mode": None, "supervisor": "chef"}))
    await expect(notice).to_be_hidden()
    await page.reload()
    await expect(page.locator("#call")).to_have_attribute("data-live", "up")
    await expect(notice).to_be_hidden()
    assert errors == []


async def test_the_calls_recording_page_shows_who_listened_in_to_supervisors_only(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    from tests.test_web_recordings import NOW, recorded_call
    from tests.webfixtures import add_account, login

    add_account(engine, "anna", "agent")
    add_account(engine, "chef", "supervisor")
    client = await make_client(web_config(db_url, tmp_path))
    rid = recorded_call(engine, tmp_path, "anna")
    with Session(engine) as s, s.begin():
        attempt_id = s.get(Recording, rid).attempt_id
        for minute, action in ((1, "listen"), (2, "barge"), (4, "stop")):
            log_action(s, attempt_id=attempt_id, supervisor="chef", agent="anna", action=action,
                       at=NOW + timedelta(minutes=minute))
    await login(client, "chef")
    page = await (await client.get(f"/recordings/{rid}", headers={"Accept-Language": "en"})).text()
    assert "Listened in" in page or "Meegeluisterd" in page
    assert page.count("chef:") == 3 and ("joined the conversation" in page or "nam deel" in page)
    agent = await make_client(web_config(db_url, tmp_path))
    await login(agent, "anna")
    page = await (await agent.get(f"/recordings/{rid}")).text()
    assert 'id="monitoring"' not in page  # silent monitoring stays silent on the agent's own call
