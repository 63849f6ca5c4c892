"""The wallboard: the team's day counted as by hand, supervisors only, and live in a real browser."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.attempt import Attempt
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement
from dialer.live.events import LiveEvent
from dialer.reports.today import team_day
from tests.test_reports import ZONE, at, build
from tests.test_web_browser import browser, signed_in  # noqa: F401
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, login, seeded, web_config
from web.keys import CLOCK, ENGINE, FLOOR, HUB


def test_the_day_counts_are_the_hand_counted_ones(engine: Engine) -> None:
    build(engine)
    with Session(engine) as s, s.begin():
        debtor = s.scalars(select(Agreement)).first()
        assert debtor is not None
        for hours, status in ((-2, "pending"), (-1, "done"), (3, "pending"), (30, "pending")):
            s.add(Callback(debtor_id=debtor.debtor_id, kind="appointment", due_at=at(2, 12) + timedelta(hours=hours),
                           status=status, created_at=at(1, 8)))
        s.add(Agreement(debtor_id=debtor.debtor_id, amount=Decimal("10.00"), due_date=date(2026, 3, 1),
                        status="broken", agent="anna", created_at=at(1, 9, month=2)))
        s.add(Agreement(debtor_id=debtor.debtor_id, amount=Decimal("20.00"), due_date=date(2026, 2, 27),
                        status="broken", agent="anna", created_at=at(1, 9, month=2)))  # broken days ago
    with engine.connect() as connection:
        day = team_day(connection, date(2026, 3, 2), ZONE, at(2, 12))
        fifth = team_day(connection, date(2026, 3, 5), ZONE, at(5, 12))
    # 2 March: anna's calls at 9:10 (promise_to_pay, answered) and 9:30 (wrong_number, answered).
    assert (day["calls_placed"], day["calls_answered"], day["contacts"], day["right_party_contacts"]) == (2, 2, 2, 1)
    assert (day["promises"], day["amount_promised"]) == (1, "300.00")
    # Call-backs: 10:00 pending is overdue at 12:00, 11:00 is done, 15:00 is due today, tomorrow's is not counted.
    assert (day["callbacks_overdue"], day["callbacks_due"]) == (1, 1)
    assert (day["promises_due_today"], day["promises_broken_today"]) == (0, 1)
    assert (fifth["promises_due_today"], fifth["calls_placed"], fifth["contacts"]) == (1, 1, 0)  # bert: no_contact
    assert fifth["callbacks_overdue"] == 3  # the three still pending, all due before the 5th at 12:00


async def test_only_supervisors_open_the_wallboard(engine: Engine, db_url: str, tmp_path: Path,
                                                   make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    assert (await client.get("/api/v1/wallboard", headers=bearer(engine, "demo"))).status == 403
    agent = await make_client(web_config(db_url, tmp_path))
    await login(agent, "demo", "demo")  # the wallboard's socket takes a login session, not a token
    assert (await agent.get("/wallboard/ws")).status == 403
    board = await (await client.get("/api/v1/wallboard", headers=bearer(engine, "chef"))).json()
    assert board["agents"] == [] and board["counters"]["calls_placed"] == 0
    assert set(board["counters"]["queue"]["kinds"]) == {"callback", "return", "follow_up", "retry", "new"}
    await login(client, "chef", "demo")
    page = await client.get("/wallboard")
    assert page.status == 200
    assert "Juiste persoon gesproken" in await page.text()


async def test_a_state_change_and_a_call_reach_an_open_wallboard_without_a_reload(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, browser: Browser) -> None:  # noqa: F811
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    page, errors = await signed_in(browser, client, "/wallboard", "chef", viewport={"width": 1920, "height": 1080})
    board = page.locator("#wallboard")
    await expect(board).to_have_attribute("data-live", "up")
    await page.evaluate("window.sameDocument = true")

    answer = await client.post("/api/v1/agent/state", json={"state": "paused", "code": "break"},
                               headers=bearer(engine, "demo"))
    assert answer.status == 200
    tile = page.locator("li[data-agent=demo]")
    await expect(tile).to_have_attribute("data-state", "paused")
    await expect(tile.locator(".wb-state")).to_have_text("Pauze")
    await expect(tile).to_have_attribute("data-over", "false")

    # A break that began 20 minutes ago is past its 15 minutes: red.
    app = client.app
    await app[FLOOR].choose("anna", "paused", "break", now=app[CLOCK]() - timedelta(minutes=20))
    await expect(page.locator("li[data-agent=anna]")).to_have_attribute("data-over", "true")

    # A call the desk logged and announced is counted on the board.
    with Session(app[ENGINE]) as s, s.begin():
        s.add(Attempt(number="+31201110001", debtor_ref="D-1001", agent="demo", caller_id="+31201234567",
                      state="ended", created_at=app[CLOCK](), outcome="no_answer"))
    app[HUB].publish(LiveEvent(agent="demo", kind="ended", at=app[CLOCK](), debtor_ref="D-1001"))
    await expect(page.locator("[data-counter=calls_placed]")).to_have_text("1")
    assert await page.evaluate("window.sameDocument") is True
    assert re.fullmatch(r"\d+:\d\d", await tile.locator(".wb-time").text_content() or "")
    assert errors == []
