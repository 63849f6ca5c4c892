"""Pausing from the agent's panel: with a reason, shown and stored, refused during a call, started from the wrap-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, expect
from sqlalchemy.engine import Engine

from dialer.live.events import LiveEvent
from tests.test_web_browser import browser, signed_in  # noqa: F401
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, bearer, seeded, web_config
from web.keys import CLOCK, FLOOR, HUB


async def call_events(client: TestClient, agent: str, *kinds: str) -> None:
    """Announce call events as the desk would, and wait until the floor has followed them."""
    app = client.app
    for kind in kinds:
        app[HUB].publish(LiveEvent(agent=agent, kind=kind, at=app[CLOCK](), attempt_id=41, debtor_ref="D-1001"))
    await app[FLOOR].settled()


async def own_state(client: TestClient, headers: dict[str, str]) -> tuple[str, str | None]:
    body = await (await client.get("/api/v1/agent/state", headers=headers)).json()
    return body["state"], body["code"]


async def test_a_pause_is_refused_during_a_call_with_a_reason_and_starts_from_the_wrap_up(
        db_url: str, engine: Engine, tmp_path: Path, make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent", language="en")
    client = await make_client(web_config(db_url, tmp_path))
    anna = bearer(engine, "anna")
    assert (await client.post("/api/v1/agent/state", json={"state": "ready"}, headers=anna)).status == 200
    await call_events(client, "anna", "dialing", "answered")

    refused = await client.post("/api/v1/agent/state", json={"state": "paused", "code": "break"}, headers=anna)
    assert refused.status == 400
    body = await refused.json()
    assert (body["reason"], body["field"]) == ("on_call", "state")
    assert body["text"] == "You are on a call. You can pause once it has ended, during the wrap-up."
    assert await own_state(client, anna) == ("talking", None)

    # From the wrap-up the pause starts at once, and saving the wrap-up keeps the agent paused.
    await call_events(client, "anna", "ended")
    assert await own_state(client, anna) == ("wrap_up", None)
    paused = await client.post("/api/v1/agent/state", json={"state": "paused", "code": "lunch"}, headers=anna)
    assert paused.status == 200, await paused.text()
    await call_events(client, "anna", "wrapped_up")
    assert await own_state(client, anna) == ("paused", "lunch")

    unknown = await client.post("/api/v1/agent/state", json={"state": "paused", "code": "nap"}, headers=anna)
    assert unknown.status == 400
    assert ((await unknown.json())["reason"], (await unknown.json())["field"]) == ("unknown_code", "code")
    assert await own_state(client, anna) == ("paused", "lunch")


async def test_the_agent_pauses_and_resumes_from_the_panel(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, browser: Browser) -> None:  # noqa: F811
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    demo, chef = bearer(engine, "demo"), bearer(engine, "chef")
    page, errors = await signed_in(browser, client, "/dossiers/D-1001", "demo")
    box = page.locator("#agent-state")
    await expect(page.locator("#call")).to_have_attribute("data-live", "up")
    await expect(box).to_have_attribute("data-state", "offline")
    await expect(page.locator("#pause-code option[value=break]")).to_have_text("Pauze")  # the panel's language
    dial = page.locator("button.dial").first
    await expect(dial).to_be_enabled()

    await page.select_option("#pause-code", "break")
    await page.click("#pause")
    await expect(box).to_have_attribute("data-state", "paused")
    await expect(box).to_have_attribute("data-code", "break")
    await expect(page.locator("#agent-state-since")).to_have_text(re.compile(r"^Gepauzeerd: Pauze sinds \d\d:\d\d$"))
    await expect(page.locator("#agent-state-time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    await expect(box).to_have_attribute("data-over", "false")
    await expect(dial).to_be_disabled()  # a paused agent is not dialled
    await expect(page.locator("#agent-state-hint")).to_have_text("U hebt pauze: hervat om te bellen.")
    assert await own_state(client, demo) == ("paused", "break")
    board = await (await client.get("/api/v1/floor", headers=chef)).json()
    assert [(a["agent"], a["state"], a["code"]) for a in board["agents"]] == [("demo", "paused", "break")]

    # A break that began 20 minutes ago is past its 15 minutes: pushed to the panel, which turns red.
    app = client.app
    await app[FLOOR].choose("demo", "paused", "break", now=app[CLOCK]() - timedelta(minutes=20))
    await expect(box).to_have_attribute("data-over", "true")
    await expect(page.locator("#agent-state-time")).to_have_text(re.compile(r"^2\d:\d\d$"))

    await page.click("#resume")
    await expect(box).to_have_attribute("data-state", "ready")
    await expect(page.locator("#pause-form")).to_be_visible()
    await expect(dial).to_be_enabled()
    assert await own_state(client, demo) == ("ready", None)

    # During a call the pause waits for the wrap-up; an error from the API is said in the panel's language.
    await call_events(client, "demo", "dialing", "answered")
    await expect(box).to_have_attribute("data-state", "talking")
    await expect(page.locator("#pause")).to_be_disabled()
    await call_events(client, "demo", "ended")
    await expect(box).to_have_attribute("data-state", "wrap_up")
    await page.evaluate("""() => { const o = document.createElement("option"); o.value = "nap"; o.textContent = "Nap";
                                   document.getElementById("pause-code").append(o); }""")
    await page.select_option("#pause-code", "nap")
    await page.click("#pause")
    await expect(page.locator("#agent-state-error")).to_have_text(re.compile("^Deze pauzereden bestaat niet"))
    await expect(box).to_have_attribute("data-state", "wrap_up")
    assert await own_state(client, demo) == ("wrap_up", None)
    assert errors == []
