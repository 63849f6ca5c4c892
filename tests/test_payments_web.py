"""The supervisor's payments page and API: a statement uploaded, unmatched credits assigned and dismissed, in the
API and in headless Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.dossiers.ledger import Invoice
from dialer.dossiers.parties import Debtor
from tests.bankfiles import camt
from tests.test_statement_booking import debtor
from tests.test_statements import BAKKER_IBAN, OGM, sample_entries
from tests.test_web_browser import browser, signed_in  # noqa: F401
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config


def ledger(engine: Engine) -> None:
    """Two debtors of the sample statement; De Vries (D-4) is not known by the bank's details."""
    with Session(engine) as session, session.begin():
        debtor(session, "D-1", [("F2026-001", "150.00", None)], BAKKER_IBAN)
        debtor(session, "D-2", [("F2026-003", "80.00", OGM)])
        debtor(session, "D-4", [("F2026-020", "20.00", None)])


async def test_the_api_imports_a_statement_and_a_supervisor_assigns_what_is_left(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    seeded(engine)
    ledger(engine)
    client = await make_client(web_config(db_url, tmp_path))
    chef, agent = bearer(engine, "chef"), bearer(engine, "demo")
    assert (await client.post("/api/v1/imports/statement", data=camt(sample_entries()), headers=agent)).status == 403
    bad = await client.post("/api/v1/imports/statement", data=b"<Document><x></Document>", headers=chef)
    assert bad.status == 422 and (await bad.json())["errors"][0]["row"] == 1
    done = await client.post("/api/v1/imports/statement?name=ing.xml", data=camt(sample_entries()), headers=chef)
    assert done.status == 200, await done.text()
    result = (await done.json())["result"]
    assert (result["format"], result["matched"], result["unmatched"], result["already"]) == ("camt.053", 2, 3, 0)
    listed = await (await client.get("/api/v1/payments/unmatched", headers=chef)).json()
    assert listed["counts"] == {"open": 3, "assigned": 0, "dismissed": 0} and listed["open_amount"] == "60.00"
    by_name = {item["counter_name"]: item for item in listed["items"]}
    assert by_name["De Vries"]["reason"] == "unknown_payer" and by_name["De Vries"]["source"] == "ing.xml"
    item = by_name["De Vries"]["id"]
    wrong = await client.post(f"/api/v1/payments/unmatched/{item}/assign", json={"debtor_ref": "D-4",
                                                                               "invoices": ["F-404"]}, headers=chef)
    assert wrong.status == 422 and (await wrong.json())["field"] == "invoices"
    assert (await client.post(f"/api/v1/payments/unmatched/{item}/assign", json={"debtor_ref": "D-4"},
                              headers=agent)).status == 403
    ok = await client.post(f"/api/v1/payments/unmatched/{item}/assign",
                           json={"debtor_ref": "D-4", "invoices": ["F2026-020"]}, headers=chef)
    assert ok.status == 200 and (await ok.json())["status"] == "assigned"
    again = await client.post(f"/api/v1/payments/unmatched/{item}/assign", json={"debtor_ref": "D-4"}, headers=chef)
    assert again.status == 409
    assert (await client.post("/api/v1/payments/unmatched/999999/dismiss", headers=chef)).status == 404
    smit = by_name["Smit"]["id"]
    dismissed = await client.post(f"/api/v1/payments/unmatched/{smit}/dismiss", headers=chef)
    assert (await dismissed.json())["status"] == "dismissed"
    with Session(engine) as session:
        assert session.scalar(select(Invoice.open_amount).where(Invoice.number == "F2026-020")) == 0
        assert session.scalar(select(Debtor.iban).where(Debtor.ref == "D-4")) == "NL44RABO0123456789"
    assert (await client.get("/api/v1/payments/unmatched?status=nope", headers=chef)).status == 400


async def test_a_supervisor_uploads_a_statement_and_assigns_a_credit_in_the_browser(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, browser: Browser) -> None:
    seeded(engine)
    ledger(engine)
    client = await make_client(web_config(db_url, tmp_path))
    statement = tmp_path / "ing-2026-12-02.xml"
    statement.write_bytes(camt(sample_entries()))
    page, errors = await signed_in(browser, client, "/payments/unmatched", "chef")
    await expect(page.locator("#statement-form")).to_be_visible()
    await page.set_input_files("#statement-form input[type=file]", str(statement))
    await page.click("#statement-form button[type=submit]")
    await expect(page.locator("#statement-booked")).to_be_visible()
    rows = page.locator("#unmatched tbody tr")
    await expect(rows).to_have_count(3)
    de_vries = rows.filter(has_text="De Vries")
    await de_vries.locator("input[name=debtor_ref]").fill("D-4")
    await de_vries.locator("input[name=invoices]").fill("F2026-020")
    await de_vries.locator("form.assign button").click()
    await expect(rows).to_have_count(2)
    await rows.filter(has_text="Mulder").locator("input[name=debtor_ref]").fill("D-9")
    await rows.filter(has_text="Mulder").locator("form.assign button").click()
    await expect(page.locator("#payments-error")).to_contain_text("D-9")
    await page.goto(str(client.make_url("/payments/unmatched?status=assigned")))
    await expect(page.locator("#unmatched tbody tr")).to_have_count(1)
    await expect(page.locator("#unmatched tbody tr")).to_contain_text("D-4")
    assert errors == []
    agent_page, _ = await signed_in(browser, client, "/payments/unmatched", "demo")
    assert await agent_page.locator("#unmatched").count() == 0
