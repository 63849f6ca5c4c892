"""The reports pages: the hand-counted figures in the table and charts, filters, downloads, and a real browser."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import Browser, expect
from sqlalchemy.engine import Engine

from dialer.reports.files import as_csv
from dialer.reports.period import Period, steps
from dialer.reports.runner import report
from dialer.reports.trend import trend
from tests.test_reports import PERIOD, ZONE, at, build
from tests.test_reports import cfg as report_cfg
from tests.test_web_browser import browser, signed_in  # noqa: F401
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, login, seeded, web_config
from web.charts import Series, grouped_bars, nice_top, stacked_bars

WEEK = "from=2026-03-02&to=2026-03-08"


def test_a_period_is_charted_by_day_week_or_month_without_a_gap() -> None:
    unit, days = steps(PERIOD)
    assert unit == "day" and [d.first.day for d in days] == [2, 3, 4, 5, 6, 7, 8]
    unit, weeks = steps(Period(date(2026, 3, 4), date(2026, 4, 30), ZONE))
    assert unit == "week" and weeks[0] == Period(date(2026, 3, 4), date(2026, 3, 8), ZONE)  # to the first Sunday
    assert all(w.first.weekday() == 0 for w in weeks[1:]) and weeks[-1].last == date(2026, 4, 30)
    unit, months = steps(Period(date(2026, 1, 15), date(2026, 12, 31), ZONE))
    assert unit == "month" and len(months) == 12 and months[1] == Period(date(2026, 2, 1), date(2026, 2, 28), ZONE)
    for cuts in (days, weeks, months):
        assert all((b.first - a.last).days == 1 for a, b in zip(cuts, cuts[1:]))


def test_the_daily_course_adds_up_to_the_weeks_figures(db_url: str, engine: Engine) -> None:
    build(engine)
    course = trend(engine, PERIOD)
    points = {p["from"]: p for p in course["points"]}
    assert course["unit"] == "day" and len(points) == 7
    monday = points["2026-03-02"]  # anna: promise_to_pay and wrong_number, both answered
    assert (monday["calls_placed"], monday["contacts"], monday["right_party_contacts"], monday["promises"]) == \
        (2, 2, 1, 1)
    week = report(engine, report_cfg(db_url), "outcomes", PERIOD, now=at(9, 12))[-1]
    for name in ("calls_placed", "calls_answered", "contacts", "right_party_contacts", "promises"):
        assert sum(p[name] for p in course["points"]) == week[name], name
    bert = trend(engine, PERIOD, agent="bert")["points"]
    assert [p["calls_placed"] for p in bert] == [0, 0, 0, 1, 1, 0, 0]
    kept = trend(engine, PERIOD, kind="promises")["points"]
    assert [(p["from"], p["promises_due"], p["promises_kept"]) for p in kept if p["promises_due"]] == \
        [("2026-03-05", 1, 1), ("2026-03-06", 1, 0)]


def test_bars_are_drawn_to_scale_and_their_labels_escaped() -> None:
    assert nice_top(87) == (100, 25) and nice_top(4) == (4, 1) and nice_top(0) == (1.0, 0.25)
    svg = str(grouped_bars("<t>", ["a<b", "c"], [Series("x&y", "chart-s1"), Series("z", "chart-s2")],
                           [[50, 100], [25, 0]], str))
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    assert heights[:4] == [101.0, 202.0, 50.5, 0.0]  # plot height 202 px for the axis top of 100
    assert "a&lt;b" in svg and "x&amp;y" in svg and "<t>" not in svg and svg.count("<title>") == 5
    stacked = str(stacked_bars("hours", ["anna"], [Series("talk", "chart-s2"), Series("wait", "chart-s5")],
                               [[1.5, 0.5]], str))
    widths = [float(w) for w in re.findall(r'y="\d+" width="([\d.]+)" height="18"', stacked)]
    assert widths == [441.0, 147.0]  # 1.5 and 0.5 of an axis to 2 over 588 px


async def test_only_supervisors_see_the_reports(engine: Engine, db_url: str, tmp_path: Path,
                                                make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    assert (await client.get(f"/api/v1/reports/outcomes?{WEEK}", headers=bearer(engine, "demo"))).status == 403
    await login(client, "demo", "demo")
    assert (await client.get(f"/reports/outcomes?{WEEK}")).status == 403
    assert (await client.get(f"/reports/outcomes/download?{WEEK}&format=csv")).status == 403


async def test_the_page_shows_the_hand_counted_rates_and_draws_the_week(engine: Engine, db_url: str, tmp_path: Path,
                                                                        make_client: MakeClient) -> None:
    seeded(engine)
    build(engine)
    client = await make_client(web_config(db_url, tmp_path, team=f'timezone = "{ZONE}"'))
    csrf = await login(client, "chef", "demo")
    page = await client.get(f"/reports/outcomes?{WEEK}")
    html = await page.text()
    assert page.status == 200
    table = html[html.index('id="report-table"'):]
    team_row = table[table.index('class="total"'):]
    assert re.search(r"Team</td>\s*<td class=\"num\">6</td>", team_row)  # 6 calls placed in the week
    assert "66,7 %" in team_row and "50,0 %" in team_row and "33,3 %" in team_row  # contact, RPC, promise rate
    assert html.count('<svg class="chart"') == 2 and "Gesprekken en contacten per dag" in html
    assert len(re.findall(r'class="chart-label" text-anchor="middle">', html)) == 7 + 2  # 7 days, 2 agents
    anna = await (await client.get(f"/reports/outcomes?{WEEK}&agent=anna")).text()
    assert ">bert<" not in anna[anna.index('id="report-table"'):] and "75,0 %" in anna
    await client.post("/language", data={"language": "en", "csrf_token": csrf, "next": "/reports"})
    english = await (await client.get(f"/reports/promises?{WEEK}")).text()
    assert "Promises due and kept per day" in english and "Promise-kept rate" in english and "50.0 %" in english
    for kind in ("agents", "ageing"):
        shown = await client.get(f"/reports/{kind}?{WEEK}")
        assert shown.status == 200 and '<svg class="chart"' in await shown.text(), kind


async def test_a_bad_period_says_what_is_wrong_and_reports_nothing_wrong(engine: Engine, db_url: str,
                                                                         tmp_path: Path,
                                                                         make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    await login(client, "chef", "demo")
    backwards = await client.get("/reports/outcomes?from=2026-03-08&to=2026-03-02")
    assert backwards.status == 400 and "before it starts" in await backwards.text()
    assert (await client.get("/reports/outcomes?from=2026-02-30&to=2026-03-02")).status == 400
    assert (await client.get("/reports/nonsense")).status == 404
    api = await client.get("/api/v1/reports/outcomes?from=2026-03-08&to=2026-03-02", headers=bearer(engine, "chef"))
    assert api.status == 400 and "before it starts" in (await api.json())["error"]
    assert (await client.get(f"/reports/outcomes/download?{WEEK}&format=pdf")).status == 400


async def test_downloads_and_the_api_give_the_commands_rows(engine: Engine, db_url: str, tmp_path: Path,
                                                             make_client: MakeClient) -> None:
    seeded(engine)
    build(engine)
    config = web_config(db_url, tmp_path, team=f'timezone = "{ZONE}"')
    client = await make_client(config)
    await login(client, "chef", "demo")
    expected = report(engine, config, "promises", PERIOD, now=at(9, 12))
    api = await (await client.get(f"/api/v1/reports/promises?{WEEK}", headers=bearer(engine, "chef"))).json()
    assert api["rows"] == expected and api["period"] == {"from": "2026-03-02", "to": "2026-03-08", "timezone": ZONE}
    text = await client.get(f"/reports/promises/download?{WEEK}&format=csv")
    assert text.headers["Content-Disposition"] == 'attachment; filename="belblok-promises-2026-03-02-2026-03-08.csv"'
    body = await text.text()
    assert body == as_csv(expected) and list(csv.DictReader(io.StringIO(body)))[-1]["promise_kept_rate"] == "0.5"
    book = await client.get(f"/reports/promises/download?{WEEK}&format=xlsx&agent=anna")
    assert book.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(await book.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("agent", "promises_made", "amount_promised") and rows[1][:3] == ("anna", 2, 350.0)


async def test_a_supervisor_filters_the_report_in_a_browser(engine: Engine, db_url: str, tmp_path: Path,
                                                            make_client: MakeClient,
                                                            browser: Browser) -> None:  # noqa: F811
    seeded(engine)
    build(engine)
    client = await make_client(web_config(db_url, tmp_path, team=f'timezone = "{ZONE}"'))
    page, errors = await signed_in(browser, client, "/reports", "chef")
    await expect(page.locator("#report-filters")).to_be_visible()
    await page.fill("input[name=from]", "2026-03-02")
    await page.fill("input[name=to]", "2026-03-08")
    await page.click("#report-filters button[type=submit]")
    await expect(page.locator("#report-table tbody tr")).to_have_count(3)  # anna, bert and the team
    await expect(page.locator("svg.chart").first).to_be_visible()
    box = await page.locator("svg.chart").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    await page.click("nav.tabs a:has-text('Ouderdom')")
    await expect(page.locator("#report-table")).to_have_attribute("data-report", "ageing")
    assert "from=2026-03-02" in page.url and errors == []
