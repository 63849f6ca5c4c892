"""End to end in a real browser: log in, dial from a dossier, follow the live call, wrap up, get the e-mail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page, async_playwright, expect

from dialer.demo.network import tone
from dialer.mail.confirmation import threatening_words
from dialer.storage.database import make_engine, upgrade
from softphone.sipp import SippPeer
from tests.conftest import MakeWorker
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, SmtpSink, seeded, web_config

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def signed_in(browser: Browser, client: TestClient, path: str, name: str, password: str = "demo",
                    **options: Any) -> tuple[Page, list[str]]:
    """A new page logged in through the form and sent on to `path`, with the page's script errors collected."""
    page = await browser.new_page(**options)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(str(client.make_url(f"/login?next={path}")))
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    return page, errors


async def test_an_agent_calls_a_debtor_and_records_a_confirmed_agreement(
        tmp_path: Path, make_client: MakeClient, make_worker: MakeWorker, smtp_sink: SmtpSink,
        browser: Browser) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'belblok.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded(engine)
    engine.dispose()
    # The agent's own phone: a second softphone that answers and "talks" (a tone).
    phone = await make_worker("127.0.0.1:9", incoming="answer", greeting=str(tone(tmp_path / "agent.wav")),
                              greeting_loop=True, name="agent-phone")
    with SippPeer("answer", keys={"ring_ms": 1500, "hangup_ms": 600000}) as debtor_line:
        cfg = web_config(url, tmp_path, trunk=debtor_line.uri, smtp_port=smtp_sink.port,
                         extra=f'[agent]\nline = "sip:agent@127.0.0.1:{phone.local_port}"\n')
        client = await make_client(cfg)
        base = str(client.make_url("/"))
        page = await browser.new_page(viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        await page.goto(base + "dossiers/D-1001")
        await expect(page).to_have_url(re.compile(r"/login\?next="))
        await page.fill("input[name=username]", "demo")
        await page.fill("input[name=password]", "demo")
        await page.click("button[type=submit]")
        await expect(page).to_have_url(re.compile(r"/dossiers/D-1001$"))
        await expect(page.locator("#debtor-name")).to_have_text("Bakkerij Van Dijk B.V.")
        call = page.locator("#call")
        await expect(call).to_have_attribute("data-live", "up")

        await page.click("button.dial[data-number='+31201110001']")
        await expect(call).to_have_attribute("data-state", re.compile("dialing|ringing|answered"))
        await expect(call).to_have_attribute("data-state", "answered", timeout=30_000)
        await expect(page.locator("#call-contact")).to_have_text("Jan van Dijk")
        await expect(page.locator("#call-withheld")).to_be_hidden()
        await expect(page.locator("#call-timer")).to_have_text(re.compile(r"00:(0[1-9]|[1-5][0-9])"), timeout=10_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "agent-screen.png"), full_page=True)
        await page.fill("#note-text", "Jan betaalt in twee delen")
        await page.click("#note-form button")
        await expect(page.locator("#notes-list li").first).to_contain_text("Jan betaalt in twee delen")

        await page.click("#hangup")
        await expect(call).to_have_attribute("data-state", "ended", timeout=30_000)
        await expect(page.locator("#call-outcome")).to_have_attribute("data-outcome", "answered")
        history = (await call.get_attribute("data-history") or "").split()
        assert history[history.index("dialing"):] in (["dialing", "ringing", "answered", "ended"],
                                                     ["dialing", "answered", "ended"]), history
        assert "ringing" in history or debtor_line.sent(180)

        # The wrap-up: a first payment under 50 % is warned and must be confirmed.
        today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
        await page.select_option("#outcome", "promise_to_pay")
        await page.select_option("#contact", "Jan van Dijk")
        await page.locator("#payments .amount").nth(0).fill("500,00")
        await page.locator("#payments .due").nth(0).fill((today + timedelta(days=3)).isoformat())
        await page.click("#add-payment")
        await page.locator("#payments .amount").nth(1).fill("2283.00")
        await page.locator("#payments .due").nth(1).fill((today + timedelta(days=30)).isoformat())
        await page.click("#wrapup-save")
        warnings = page.locator("#wrapup-warnings")
        await expect(warnings).to_be_visible()
        await expect(warnings.locator("li[data-code=first_payment_below_minimum]")).to_contain_text("1.391,50")
        await page.click("#confirm-save")
        done = page.locator("#wrapup-done")
        await expect(done).to_be_visible(timeout=30_000)
        await expect(done).to_have_attribute("data-email", "sent")
        assert errors == []

    (message,) = await smtp_sink.wait_for(1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert message["To"] == "jan@bakkerij-vandijk.example"
    for point in ("€ 500,00", "€ 2.283,00", "F2026-0412", "F2026-0498"):
        assert point in body
    assert threatening_words(body) == []
