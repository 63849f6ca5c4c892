"""Dialing sessions and calling blocks in the panel: start, preview, dial, pause, end; supervisors edit blocks."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from dialer.blocks.block import (
    DAYS,
    WEEKLY,
    Block,
    BlockError,
    clock,
    current_block,
    next_block,
    next_open_and_close,
)
from dialer.blocks.model import add_block, add_one_off, load_blocks, remove_block
from dialer.live.states import StateRefused
from dialer.sessions.dialing import DialRefused
from dialer.sessions.dialsession import DialSession, SessionRefused

from .. import db
from ..auth import SUPERVISORS, current_user, json_error, requires
from ..i18n import _
from ..keys import BLOCK_CLOCK, CLOCK, CONFIG, DIAL_SESSIONS, FLOOR
from ..render import render
from .floor import pause_codes, refusal_text
from .pages import see_other

ACTIONS = ("start", "preview", "dial", "pause", "resume", "end")


def _blocks_view(request: web.Request, session: Session) -> dict[str, Any]:
    cfg, now = request.app[CONFIG], request.app[CLOCK]()
    team = cfg.team
    blocks = load_blocks(session, cfg.blocks)
    rows = []
    for block in blocks:
        opens, closes = next_open_and_close(block, now, team.timezone, team.country)
        rows.append({**block.to_json(), "next_open": opens.isoformat() if opens else None,
                     "next_close": closes.isoformat() if closes else None})
    current, coming = current_block(blocks, now, team.timezone, team.country), next_block(
        blocks, now, team.timezone, team.country)
    return {"blocks": rows, "current": current.to_json() if current else None,
            "next": coming.to_json() if coming else None}


def _session_of(request: web.Request) -> DialSession | None:
    try:
        return request.app[DIAL_SESSIONS].get(current_user(request).name)
    except (KeyError, SessionRefused):
        return None


async def _act(request: web.Request, action: str, mode: str = "preview", code: str | None = None
               ) -> dict[str, Any]:
    """Do one session action for the logged-in agent; returns the session's state."""
    agent = current_user(request).name
    sessions = request.app[DIAL_SESSIONS]
    if action == "start":
        existing = _session_of(request)
        if existing is not None and existing.status not in ("ended",):
            return existing.state()
        return (await sessions.start(agent, mode if mode in ("preview", "power") else "preview")).state()
    session = _session_of(request)
    if session is None:
        raise SessionRefused(_("Start a calling session first."))
    if action == "preview":
        await session.preview()
    elif action == "dial":
        await session.dial_next()
    elif action == "pause" and code:
        # A pause with its reason, as the panel's: the floor keeps the code, the session follows the floor.
        state = await request.app[FLOOR].choose(agent, "paused", code)
        await sessions.follow_choice(agent, state.state)
    elif action == "pause":
        await session.pause()
    elif action == "resume":
        await session.resume()
    elif action == "end":
        await session.end()
    return session.state()


async def session_page(request: web.Request) -> web.Response:
    """The calling-session screen: the block, the previewed dossier and the controls."""
    view = await db.read(request, lambda s: _blocks_view(request, s))
    session = _session_of(request)
    return render("session.html", request, {**view, "session": session.state() if session else None,
                                            "message": request.query.get("message", ""),
                                            "pause_codes": pause_codes(request)})


async def session_form(request: web.Request) -> web.Response:
    """POST /session/{action} from the page's buttons."""
    action = request.match_info["action"]
    form = await request.post()
    message = ""
    try:
        await _act(request, action, str(form.get("mode") or "preview"), str(form.get("code") or "") or None)
    except (SessionRefused, DialRefused) as exc:
        message = str(exc)
    except StateRefused as exc:
        message = refusal_text(exc.reason)
    except Exception as exc:  # a telephone that cannot be reached: say so, keep the page
        message = _("The telephone could not do that: {error}").format(error=exc)
    target = request.app.router["session"].url_for()
    return see_other(str(target.with_query(message=message) if message else target))


async def api_session(request: web.Request) -> web.Response:
    """GET /api/v1/session: the agent's session state (null when none)."""
    session = _session_of(request)
    return web.json_response({"session": session.state() if session else None})


async def api_session_action(request: web.Request) -> web.Response:
    """POST /api/v1/session/{action} {"mode"}: start, preview, dial, pause, resume, end."""
    action = request.match_info["action"]
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        return json_error(400, "the body must be JSON, e.g. {\"mode\": \"preview\"} or {\"code\": \"lunch\"}")
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object, e.g. {\"mode\": \"preview\"}")
    try:
        code = body.get("code") if isinstance(body.get("code"), str) else None
        state = await _act(request, action, str(body.get("mode") or "preview"), code or None)
    except DialRefused as exc:
        return json_error(409, str(exc), rules=list(exc.rules))
    except StateRefused as exc:
        return json_error(400, str(exc), reason=exc.reason, text=refusal_text(exc.reason))
    except SessionRefused as exc:
        return json_error(409, str(exc))
    return web.json_response({"session": state})


async def blocks_page(request: web.Request) -> web.Response:
    """Calling blocks in force with their next opening; supervisors add and remove them here."""
    view = await db.read(request, lambda s: _blocks_view(request, s))
    return render("blocks.html", request, {**view, "days": DAYS, "error": request.query.get("error", "")})


@requires(*SUPERVISORS)
async def blocks_form(request: web.Request) -> web.Response:
    """Add a weekly or one-off block, or remove one."""
    form = await request.post()
    cfg, now, who = request.app[CONFIG], request.app[CLOCK](), current_user(request).name

    def change(session: Session) -> None:
        if form.get("remove"):
            remove_block(session, int(str(form["remove"])))
        elif form.get("kind") == "one_off":
            add_one_off(session, date.fromisoformat(str(form.get("on"))), str(form.get("start")),
                        str(form.get("end")), by=who, now=now, note=str(form.get("note") or ""))
        else:
            days = tuple(d for d in DAYS if form.get(f"day_{d}"))
            block = Block(days=days, start=clock(str(form.get("start"))), end=clock(str(form.get("end"))),
                          kind=WEEKLY)
            add_block(session, block, configured=cfg.blocks, by=who, now=now)

    try:
        await db.run(request, change)
    except (BlockError, ValueError) as exc:
        return see_other(str(request.app.router["blocks"].url_for().with_query(error=str(exc))))
    request.app[BLOCK_CLOCK].arm()  # the next opening or closing may have changed
    return see_other(str(request.app.router["blocks"].url_for()))


async def api_blocks(request: web.Request) -> web.Response:
    """GET /api/v1/blocks: blocks in force, the current and the next (as `belblok blocks --json`)."""
    view = await db.read(request, lambda s: _blocks_view(request, s))
    team = request.app[CONFIG].team
    return web.json_response({"timezone": team.timezone, "country": team.country, **view})


def setup_routes(app: web.Application) -> None:
    """Register the session and block pages and their API."""
    r = app.router
    r.add_get("/session", session_page, name="session")
    r.add_post(r"/session/{action:(start|preview|dial|pause|resume|end)}", session_form, name="session_action")
    r.add_get("/blocks", blocks_page, name="blocks")
    r.add_post("/blocks", blocks_form, name="blocks_edit")
    r.add_get("/api/v1/session", api_session, name="api_session")
    r.add_post(r"/api/v1/session/{action:(start|preview|dial|pause|resume|end)}", api_session_action,
               name="api_session_action")
    r.add_get("/api/v1/blocks", api_blocks, name="api_blocks")
