"""Agents' appointments as an iCalendar feed, behind a per-agent token (for their own calendar app)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from yarl import URL

from dialer.scheduling.feedkeys import generation, revoke
from dialer.scheduling.ics import (
    agent_calendar,
    agent_for_feed_token,
    feed_secret,
    feed_token,
)

from .. import db
from ..auth import current_user
from ..keys import CLOCK, CONFIG


async def feed(request: web.Request) -> web.Response:
    """GET /calendar/{agent}.ics?token=…: the agent's call-back appointments (no login: the token is the key)."""
    agent = request.match_info["agent"]
    secret = await asyncio.to_thread(feed_secret)
    current = await db.run(request, lambda s: generation(s, agent))
    if agent_for_feed_token(secret, request.query.get("token", ""), current) != agent:
        raise web.HTTPNotFound(text="no such calendar")  # a revoked address included
    cfg, now = request.app[CONFIG], request.app[CLOCK]()
    text = await db.run(request, lambda s: agent_calendar(s, agent, cfg, now=now))
    return web.Response(text=text, content_type="text/calendar", charset="utf-8",
                        headers={"Content-Disposition": f'inline; filename="belblok-{agent}.ics"'})


async def feed_address(request: web.Request) -> web.Response:
    """GET /api/v1/calendar: the logged-in agent's own feed address."""
    agent = current_user(request).name
    current = await db.run(request, lambda s: generation(s, agent))
    secret = await asyncio.to_thread(feed_secret)
    return web.json_response({"agent": agent, "url": _address(request, agent, feed_token(secret, agent, current))})


async def feed_revoke(request: web.Request) -> web.Response:
    """POST /api/v1/calendar/revoke: end the agent's feed address (a lost phone, a shared link); a new one."""
    agent, now = current_user(request).name, request.app[CLOCK]()
    current = await db.run(request, lambda s: revoke(s, agent, now=now))
    secret = await asyncio.to_thread(feed_secret)
    token = feed_token(secret, agent, current)
    return web.json_response({"agent": agent, "url": _address(request, agent, token), "revoked": True})


def _address(request: web.Request, agent: str, token: str) -> str:
    """The feed's address from `[web] public_url` (a Host header is the caller's to choose); else a path only."""
    path = URL.build(path=f"/calendar/{agent}.ics", query={"token": token})
    public = request.app[CONFIG].web.public_url
    return f"{public}{path}" if public else str(path)


def setup_routes(app: web.Application) -> None:
    """Register the feed and the address lookup."""
    app.router.add_get("/calendar/{agent}.ics", feed, name="calendar_feed")
    app.router.add_get("/api/v1/calendar", feed_address, name="api_calendar")
    app.router.add_post("/api/v1/calendar/revoke", feed_revoke, name="api_calendar_revoke")
