"""The floor over HTTP: an agent's own state (ready, paused with a code), and every agent's for supervisors."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from dialer.live.states import StateRefused

from ..auth import SUPERVISORS, current_user, json_error, requires
from ..i18n import _, current_language
from ..keys import CONFIG, DIAL_SESSIONS, FLOOR


def pause_codes(request: web.Request) -> list[dict[str, Any]]:
    """The configured pause codes with their label in the page's language."""
    language = current_language.get()
    return [{"code": c.code, "label": c.label(language), "max_minutes": c.max_minutes}
            for c in request.app[CONFIG].pause_codes]


def refusal_text(reason: str) -> str:
    """A refused state change said in the page's language, for the panel (`error` stays the dialer's own)."""
    texts = {
        "on_call": _("You are on a call. You can pause once it has ended, during the wrap-up."),
        "unknown_code": _("That pause code is not configured. Reload the page and choose another one."),
        "no_code": _("Choose a reason for the pause."),
    }
    return texts.get(reason) or _("That state cannot be chosen now.")


async def own_state(request: web.Request) -> web.Response:
    """GET /api/v1/agent/state: the logged-in agent's state (offline when none was ever stored)."""
    agent = current_user(request).name
    state = await asyncio.to_thread(request.app[FLOOR].now, agent)
    body = state.to_json() if state else {"agent": agent, "state": "offline", "since": None, "code": None,
                                          "debtor_ref": None, "attempt_id": None}
    return web.json_response({**body, "pause_codes": pause_codes(request)})


async def choose_state(request: web.Request) -> web.Response:
    """POST /api/v1/agent/state {"state": "ready"|"paused"|"offline", "code"}: 400 with the reason if refused."""
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, "the body must be JSON: {\"state\": \"paused\", \"code\": \"break\"}")
    if not isinstance(body, dict) or not isinstance(body.get("state"), str) \
            or not isinstance(body.get("code") or "", str):
        return json_error(400, "state (text) is required; code, for a pause, is text")
    agent = current_user(request).name
    try:
        state = await request.app[FLOOR].choose(agent, body["state"], body.get("code") or None)
    except StateRefused as exc:
        return json_error(400, str(exc), field="code" if "code" in exc.reason else "state", reason=exc.reason,
                          text=refusal_text(exc.reason))
    await request.app[DIAL_SESSIONS].follow_choice(agent, state.state)
    return web.json_response(state.to_json())


@requires(*SUPERVISORS)
async def floor_states(request: web.Request) -> web.Response:
    """GET /api/v1/floor: every agent's state (supervisors)."""
    states = await asyncio.to_thread(request.app[FLOOR].board)
    return web.json_response({"agents": [s.to_json() for s in states], "pause_codes": pause_codes(request)})


def setup_routes(app: web.Application) -> None:
    """Register the floor's API."""
    r = app.router
    r.add_get("/api/v1/agent/state", own_state, name="api_agent_state")
    r.add_post("/api/v1/agent/state", choose_state)
    r.add_get("/api/v1/floor", floor_states, name="api_floor")
