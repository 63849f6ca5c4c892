"""Data embedded in pages cannot break out: a bookmark label with quotes and markup on the recording page."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser

from dialer.recordings.store import RecordingStore
from dialer.storage.database import session_factory
from tests.test_web_browser import browser, signed_in  # noqa: F401
from tests.test_web_recordings import NOW, recorded_call
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, web_config

LABEL = 'Friday " \' < & "><form id="evil"><input autofocus onfocus="alert(1)">'


async def test_a_bookmark_label_with_quotes_and_markup_stays_text(
        db_url: str, engine, tmp_path: Path, make_client: MakeClient, browser: Browser) -> None:  # noqa: F811
    add_account(engine, "anna", "agent", password="demo")
    add_account(engine, "chef", "supervisor", password="demo")
    rid = recorded_call(engine, tmp_path, "anna")
    store = RecordingStore(session_factory(engine))
    attempt = store.get(rid).attempt_id
    store.add_bookmark(attempt, 2.0, "promise", label=LABEL, by="anna", at=NOW)
    client = await make_client(web_config(db_url, tmp_path))
    for who, forms in (("chef", 2), ("anna", 0)):  # the review and legal-hold forms are the supervisor's
        page, errors = await signed_in(browser, client, f"/recordings/{rid}", who, bypass_csp=True)
        await page.wait_for_url(f"**/recordings/{rid}")
        assert await page.locator("#evil").count() == 0
        assert await page.locator("form.checklist, form[action$='/hold']").count() == forms
        assert LABEL in await page.locator(".bookmarks").inner_text()
        # The player read its data: the bookmark is drawn (JSON.parse did not fail).
        marks = await page.evaluate("JSON.parse(document.getElementById('player-data').textContent).bookmarks")
        assert [m["label"] for m in marks] == [LABEL]
        assert await page.evaluate("Array.from(document.getElementById('waveform').attributes).map(a => a.name)") \
            == ["id", "width", "height", "title"]
        assert errors == []
        await page.close()


async def test_a_translated_value_from_the_data_is_escaped(db_url: str, engine, tmp_path: Path,
                                                           make_client: MakeClient) -> None:
    from sqlalchemy import select

    from dialer.dossiers.parties import Contact, Debtor
    from tests.webfixtures import login, seeded

    seeded(engine)
    with session_factory(engine).begin() as s:  # a role as an import may bring it: data, not a known message
        debtor = s.scalars(select(Debtor).where(Debtor.ref == "D-1001")).one()
        s.add(Contact(debtor_id=debtor.id, name="Mallory", role="<b id=ev>50%"))
        s.scalars(select(Contact).where(Contact.name == "Jan van Dijk")).one().role = "owner"
    client = await make_client(web_config(db_url, tmp_path))
    await login(client, "demo", "demo")
    page = await client.get("/dossiers/D-1001")
    assert page.status == 200
    html = await page.text()
    assert "<b id=ev>" not in html and "&lt;b id=ev&gt;50%" in html
    assert "eigenaar" in html.lower()  # a known role is still translated (the demo user reads Dutch)
