"""Agents' appointments as an iCalendar feed, behind a per-agent token (for their own calendar app)."""

from __future__ import annotations

import asyncio

from aiohttp import web

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
    if agent_for_feed_token(secret, request.query.get("token", "")) != agent:
        raise web.HTTPNotFound(text="no such calendar")
    cfg, now = request.app[CONFIG], request.app[CLOCK]()
    text = await db.run(request, lambda s: agent_calendar(s, agent, cfg, now=now))
    return web.Response(text=text, content_type="text/calendar", charset="utf-8",
                        headers={"Content-Disposition": f'inline; filename="belblok-{agent}.ics"'})


async def feed_address(request: web.Request) -> web.Response:
    """GET /api/v1/calendar: the logged-in agent's own feed address."""
    agent = current_user(request).name
    token = feed_token(await asyncio.to_thread(feed_secret), agent)
    url = request.url.with_path(f"/calendar/{agent}.ics").with_query(token=token)
    return web.json_response({"agent": agent, "url": str(url)})


def setup_routes(app: web.Application) -> None:
    """Register the feed and the address lookup."""
    app.router.add_get("/calendar/{agent}.ics", feed, name="calendar_feed")
    app.router.add_get("/api/v1/calendar", feed_address, name="api_calendar")
