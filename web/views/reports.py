"""The reports pages: a period, an agent, a chart and a table per report, and the same as CSV, XLSX or JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.orm import Session

from dialer.accounts.users import list_users
from dialer.reports.files import as_csv, as_xlsx, columns
from dialer.reports.metrics import KINDS
from dialer.reports.period import Period, PeriodError, parse_period, this_week
from dialer.reports.runner import report
from dialer.reports.trend import trend

from ..auth import SUPERVISORS, json_error, requires
from ..charts import Series, grouped_bars, stacked_bars
from ..i18n import _, day, money, number, percent
from ..keys import CLOCK, CONFIG, ENGINE
from ..render import render
from ..reportlabels import cell, column_label, kind_labels, state_series


class BadQuery(ValueError):
    """A filter the reports cannot use; the message names it."""


def _today(request: web.Request) -> date:
    return request.app[CLOCK]().astimezone(ZoneInfo(request.app[CONFIG].team.timezone)).date()


def _query(request: web.Request) -> tuple[str, Period, str | None]:
    kind = request.match_info.get("kind", "outcomes")
    if kind not in KINDS:
        raise web.HTTPNotFound(text=f"unknown report {kind!r}: one of {', '.join(KINDS)}")
    zone = request.app[CONFIG].team.timezone
    first, last = request.query.get("from", ""), request.query.get("to", "")
    agent = request.query.get("agent", "").strip() or None
    if agent is not None and (len(agent) > 100 or not agent.isprintable()):
        raise BadQuery(_("The agent's name is not a name."))
    if not first and not last:
        return kind, this_week(_today(request), zone), agent
    try:
        period = parse_period(first or last, last or first, zone)
    except PeriodError as exc:
        raise BadQuery(str(exc)) from None
    return kind, period, agent


def _rows(request: web.Request, kind: str, period: Period, agent: str | None) -> list[dict[str, Any]]:
    app = request.app
    return report(app[ENGINE], app[CONFIG], kind, period, now=app[CLOCK](), agent=agent)


def _reads(request: web.Request, kind: str, period: Period, agent: str | None
           ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[str]]:
    """Everything the page shows, read in one worker thread: the rows, their course over time, the agents."""
    app = request.app
    rows = _rows(request, kind, period, agent)
    series = trend(app[ENGINE], period, agent=agent, kind=kind, grace_days=app[CONFIG].reports.grace_days,
                   now=app[CLOCK]()) if kind in ("outcomes", "promises") else None
    with Session(app[ENGINE]) as session:
        agents = [u.name for u in list_users(session) if u.role == "agent"]
    return rows, series, agents


def _percent(value: float) -> str:
    return percent(value, 0)


def _hours(value: float) -> str:
    return f"{value:.1f} h" if value < 10 else f"{value:.0f} h"


def _whole(currency: str) -> Callable[[float], str]:
    """Amounts on an axis: whole units, no cents."""
    return lambda v: money(str(round(v)), currency, places=0)


def _label(point: dict[str, Any], unit: str) -> str:
    first = date.fromisoformat(point["from"])
    if unit == "day":
        return day(first, "EEE d")
    if unit == "week":
        return day(first, "d MMM")
    return day(first, "MMM yyyy")


def charts(kind: str, rows: list[dict[str, Any]], series: dict[str, Any] | None, currency: str) -> list[Markup]:
    """The report's charts: its course over the period first, then per agent or bucket."""
    agents = [r for r in rows if r.get("agent")]
    whole = lambda v: number(int(v))  # noqa: E731
    drawn: list[Markup] = []
    if kind == "outcomes" and series is not None:
        points, unit = series["points"], series["unit"]
        drawn.append(grouped_bars(
            _("Calls and contacts per {unit}").format(unit=_unit(unit)), [_label(p, unit) for p in points],
            [Series(_("Calls placed"), "chart-s1"), Series(_("Contacts"), "chart-s2"),
             Series(_("Right-party contacts"), "chart-s3"), Series(_("Promises"), "chart-s4")],
            [[p["calls_placed"], p["contacts"], p["right_party_contacts"], p["promises"]] for p in points], whole))
        if agents:
            drawn.append(grouped_bars(
                _("Rates per agent"), [r["agent"] for r in agents],
                [Series(_("Contact rate"), "chart-s2"), Series(_("Right-party-contact rate"), "chart-s3"),
                 Series(_("Promise rate"), "chart-s4")],
                [[r["contact_rate"] or 0, r["right_party_contact_rate"] or 0, r["promise_rate"] or 0]
                 for r in agents], _percent, top=1.0))
    elif kind == "promises" and series is not None:
        points, unit = series["points"], series["unit"]
        drawn.append(grouped_bars(
            _("Promises due and kept per {unit}").format(unit=_unit(unit)), [_label(p, unit) for p in points],
            [Series(_("Promises made"), "chart-s1"), Series(_("Promises due"), "chart-s3"),
             Series(_("Promises kept"), "chart-s2")],
            [[p["promises_made"], p["promises_due"], p["promises_kept"]] for p in points], whole))
        drawn.append(grouped_bars(
            _("Amount due and received per {unit}").format(unit=_unit(unit)), [_label(p, unit) for p in points],
            [Series(_("Amount due"), "chart-s3"), Series(_("Amount received"), "chart-s2")],
            [[float(p["amount_due"]), float(p["amount_received"])] for p in points],
            _whole(currency)))
    elif kind == "agents" and rows:
        names, parts = state_series()
        drawn.append(stacked_bars(_("Where the hours went"), [r["agent"] for r in rows],
                                  [Series(label, css) for label, css in parts],
                                  [[r[n] / 3600 for n in names] for r in rows], _hours))
    elif kind == "ageing":
        buckets = [r for r in rows if r["bucket"] != "total"]
        drawn.append(grouped_bars(
            _("The open book by age"), [column_label(f"bucket_{r['bucket']}") for r in buckets],
            [Series(_("At the start"), "chart-s1"), Series(_("At the end"), "chart-s3")],
            [[float(r["open_at_start"]), float(r["open_at_end"])] for r in buckets],
            _whole(currency)))
    return drawn


def _unit(unit: str) -> str:
    return {"day": _("day"), "week": _("week"), "month": _("month")}[unit]


def _presets(today: date) -> list[tuple[str, date, date]]:
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [(_("Today"), today, today), (_("This week"), monday, today),
            (_("Last week"), monday - timedelta(days=7), monday - timedelta(days=1)),
            (_("This month"), first_of_month, today), (_("Last month"), last_month_end.replace(day=1), last_month_end)]


def _link(kind: str, first: date, last: date, agent: str | None, suffix: str = "", **extra: str) -> str:
    query = {"from": first.isoformat(), "to": last.isoformat(), **({"agent": agent} if agent else {}), **extra}
    return f"/reports/{kind}{suffix}?{urlencode(query)}"


@requires(*SUPERVISORS)
async def page(request: web.Request) -> web.Response:
    """GET /reports/{kind}: the filters, the charts and the table."""
    cfg = request.app[CONFIG]
    error = None
    try:
        kind, period, agent = _query(request)
    except BadQuery as exc:
        kind = request.match_info.get("kind", "outcomes")
        period, agent, error = this_week(_today(request), cfg.team.timezone), None, str(exc)
    rows, series, agents = await asyncio.to_thread(_reads, request, kind, period, agent)
    names = columns(rows)
    context = {
        "kind": kind, "kinds": kind_labels(), "period": period, "agent": agent, "agents": agents, "error": error,
        "columns": [column_label(c, cfg) for c in names],
        "table": [[cell(c, r.get(c), cfg.team.currency) for c in names] for r in rows],
        "totals": [r.get("agent", "") is None or r.get("bucket") == "total" for r in rows],  # the team's row
        "numeric": [c not in ("agent", "bucket") for c in names],
        "charts": charts(kind, rows, series, cfg.team.currency),
        "presets": [(label, _link(kind, a, b, agent), a == period.first and b == period.last)
                    for label, a, b in _presets(_today(request))],
        "links": {k: _link(k, period.first, period.last, agent) for k in KINDS},
        "downloads": {f: _link(kind, period.first, period.last, agent, "/download", format=f)
                      for f in ("csv", "xlsx")},
    }
    return render("reports.html", request, context, status=400 if error else 200)


@requires(*SUPERVISORS)
async def index(request: web.Request) -> web.Response:
    """GET /reports: the outcomes of this week."""
    raise web.HTTPFound("/reports/outcomes")


@requires(*SUPERVISORS)
async def download(request: web.Request) -> web.Response:
    """GET /reports/{kind}/download?format=csv|xlsx: the report's rows as a file named after it and its period."""
    form = request.query.get("format", "csv")
    if form not in ("csv", "xlsx"):
        raise web.HTTPBadRequest(text="format must be csv or xlsx")
    try:
        kind, period, agent = _query(request)
    except BadQuery as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    rows = await asyncio.to_thread(_rows, request, kind, period, agent)
    name = f"belblok-{kind}-{period.first.isoformat()}-{period.last.isoformat()}{'-' + agent if agent else ''}"
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    headers = {"Content-Disposition": f'attachment; filename="{name}.{form}"'}
    if form == "xlsx":
        body = await asyncio.to_thread(as_xlsx, rows, kind)
        return web.Response(body=body, headers=headers,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return web.Response(text=as_csv(rows), headers=headers, content_type="text/csv", charset="utf-8")


@requires(*SUPERVISORS)
async def api(request: web.Request) -> web.Response:
    """GET /api/v1/reports/{kind}?from&to&agent: {"report", "period", "rows"} with the metric names of the docs."""
    try:
        kind, period, agent = _query(request)
    except BadQuery as exc:
        return json_error(400, str(exc))
    except web.HTTPNotFound as exc:
        return json_error(404, exc.text or "unknown report")
    rows = await asyncio.to_thread(_rows, request, kind, period, agent)
    return web.json_response({"report": kind, "period": period.to_json(), "agent": agent, "rows": rows})


def setup_routes(app: web.Application) -> None:
    """Register the reports' pages, downloads and API."""
    r = app.router
    r.add_get("/reports", index, name="reports")
    r.add_get("/reports/{kind}", page, name="report")
    r.add_get("/reports/{kind}/download", download, name="report_download")
    r.add_get("/api/v1/reports/{kind}", api, name="api_report")
