"""Every route of the panel and the API in one table."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .views import (
    accounts,
    api,
    calendar,
    calls,
    demo,
    floor,
    live,
    login,
    monitor,
    pages,
    payments,
    recordings,
    reports,
    session,
    wallboard,
)

STATIC = Path(__file__).resolve().parent / "static"


def setup_routes(app: web.Application) -> None:
    """Register pages, API, WebSocket and static files."""
    r = app.router
    r.add_get("/", pages.home, name="home")
    r.add_get("/login", login.login_form, name="login")
    r.add_post("/login", login.login)
    r.add_post("/logout", login.logout, name="logout")
    r.add_post("/language", login.language, name="language")
    accounts.setup_routes(app)
    r.add_get("/dossiers", pages.dossier_list, name="dossiers")
    r.add_get("/dossiers/{ref}", pages.dossier_page, name="dossier")
    r.add_post("/dossiers/{ref}/notes", pages.note_form, name="dossier_notes")
    r.add_get("/outbox", pages.outbox, name="outbox")
    r.add_get("/tasks", pages.tasks, name="tasks")
    r.add_get("/ws", live.websocket, name="ws")
    r.add_get("/api/v1/openapi.json", api.openapi, name="openapi")
    r.add_get("/api/v1/debtors", api.debtor_list, name="api_debtors")
    r.add_get("/api/v1/debtors/{ref}", api.debtor, name="api_debtor")
    r.add_post("/api/v1/imports/{kind}", api.import_csv, name="api_import")
    r.add_get("/api/v1/calls/current", calls.current, name="api_call_current")
    r.add_post("/api/v1/calls", calls.dial, name="api_calls")
    r.add_post("/api/v1/calls/hangup", calls.hangup, name="api_hangup")
    r.add_post("/api/v1/notes", calls.note, name="api_notes")
    r.add_post("/api/v1/wrapups", calls.wrap_up, name="api_wrapups")
    r.add_post("/api/v1/demo/incoming", demo.call_in, name="api_demo_incoming")
    r.add_get("/api/v1/outbox", api.outbox, name="api_outbox")
    recordings.setup_routes(app)
    calendar.setup_routes(app)
    session.setup_routes(app)
    floor.setup_routes(app)
    monitor.setup_routes(app)
    wallboard.setup_routes(app)
    reports.setup_routes(app)
    payments.setup_routes(app)
    r.add_static("/static/", STATIC, name="static", append_version=True)
