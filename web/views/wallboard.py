"""The wallboard: every agent's state and the team's day, pushed over a WebSocket as they change."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from dialer.live.events import LiveEvent
from dialer.reports.today import counters, team_day

from ..auth import SUPERVISORS, current_user, requires
from ..i18n import _
from ..keys import CLOCK, CONFIG, ENGINE, FLOOR, HUB
from ..render import render
from ..sockets import hold
from .floor import pause_codes

log = logging.getLogger(__name__)

COUNTED = frozenset({"dialing", "answered", "ended", "wrapped_up", "callback_due", "incoming"})  # change a counter
SETTLE_S = 1.0  # call events are counted together: one recount per second at most, whatever the floor does
REFRESH_S = 30.0  # the whole board again: agents of other coordinators, call-backs falling overdue, the queue


def _setup(request: web.Request) -> dict[str, Any]:
    cfg = request.app[CONFIG]
    return {"pause_codes": pause_codes(request), "wrap_up_limit_minutes": cfg.wallboard.wrap_up_limit_minutes,
            "timezone": cfg.team.timezone, "currency": cfg.team.currency,
            "states": state_labels(), "monitor": monitor_setup(request)}


def monitor_setup(request: web.Request) -> dict[str, Any]:
    """The listen-in buttons' labels, and whether the supervisor has a phone to listen with."""
    return {"phone": bool(current_user(request).agent_line),
            "modes": {"listen": _("Listen"), "whisper": _("Whisper"), "barge": _("Barge in"), "stop": _("Stop")},
            "no_phone": _("Your profile has no phone to listen with: ask an admin to set your SIP line."),
            "ringing": _("Your phone rings: answer it to join {agent}'s call."),
            "stopped": _("You left {agent}'s call.")}


def state_labels() -> dict[str, str]:
    """The agent states' names in the request's language."""
    return {"offline": _("Offline"), "ready": _("Ready"), "dialing": _("Dialling"), "ringing": _("Ringing"),
            "talking": _("Talking"), "wrap_up": _("Wrap-up"), "paused": _("Paused")}


async def _board(request: web.Request, *, queue: bool) -> dict[str, Any]:
    app = request.app
    now = app[CLOCK]()
    states = await asyncio.to_thread(app[FLOOR].board)
    if queue:
        counted = await asyncio.to_thread(counters, app[CONFIG], app[ENGINE], now)
    else:
        counted = await asyncio.to_thread(_day, request)
    return {"agents": [s.to_json() for s in states], "counters": counted, "now": now.isoformat()}


def _day(request: web.Request) -> dict[str, Any]:
    app = request.app
    now, zone = app[CLOCK](), app[CONFIG].team.timezone
    with app[ENGINE].connect() as connection:
        return team_day(connection, now.astimezone(ZoneInfo(zone)).date(), zone, now)


@requires(*SUPERVISORS)
async def page(request: web.Request) -> web.Response:
    """GET /wallboard: the board as it is now; the script keeps it current."""
    board = await _board(request, queue=True)
    return render("wallboard.html", request, {"board": board, "setup": _setup(request)})


@requires(*SUPERVISORS)
async def snapshot(request: web.Request) -> web.Response:
    """GET /api/v1/wallboard: agents' states and the team's counters (what the WebSocket starts with)."""
    return web.json_response(await _board(request, queue=True))


async def _push(ws: web.WebSocketResponse, request: web.Request, events: asyncio.Queue[LiveEvent]) -> None:
    recount: asyncio.Task[None] | None = None

    async def later() -> None:
        await asyncio.sleep(SETTLE_S)
        await ws.send_json({"type": "counters", "counters": await asyncio.to_thread(_day, request)})

    loop = asyncio.get_running_loop()
    refresh_at = loop.time() + REFRESH_S
    try:
        while not ws.closed:
            try:
                event = await asyncio.wait_for(events.get(), timeout=max(0.0, refresh_at - loop.time()))
            except TimeoutError:
                await ws.send_json({"type": "board", **await _board(request, queue=True)})
                refresh_at = loop.time() + REFRESH_S
                continue
            if event.kind == "agent_state":
                await ws.send_json({"type": "state", **event.detail})
            elif event.kind in COUNTED and (recount is None or recount.done()):
                recount = asyncio.ensure_future(later())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception:
        log.exception("pushing the wallboard failed")
    finally:
        if recount is not None:
            recount.cancel()


@requires(*SUPERVISORS)
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """GET /wallboard/ws: the board first, then each state change at once and the counters as calls happen."""
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    events = request.app[HUB].listen("*")  # before the board is read: a change in between is sent again after it

    async def opening() -> None:
        await ws.send_json({"type": "board", **await _board(request, queue=False)})

    return await hold(request, ws, "*", events, opening, lambda: _push(ws, request, events))


def setup_routes(app: web.Application) -> None:
    """Register the wallboard's page, API and WebSocket."""
    r = app.router
    r.add_get("/wallboard", page, name="wallboard")
    r.add_get("/wallboard/ws", websocket, name="wallboard_ws")
    r.add_get("/api/v1/wallboard", snapshot, name="api_wallboard")

