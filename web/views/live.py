"""The live call over a WebSocket: every event of the agent's desk, pushed as JSON."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..auth import current_user
from ..keys import HUB
from ..sockets import hold

log = logging.getLogger(__name__)


async def _push(ws: web.WebSocketResponse, agent: str, queue: asyncio.Queue) -> None:
    try:
        while True:
            event = await queue.get()
            await ws.send_json({"type": "event", **event.to_json()})
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception:
        log.exception("pushing live events to %s failed", agent)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Push the agent's live events (the last one first, so a reloaded page shows the call)."""
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    agent = current_user(request).name
    hub = request.app[HUB]
    queue = hub.listen(agent)  # registered before reading `last`: no event falls in between
    last, monitored = hub.last.get(agent), hub.monitoring.get(agent)

    async def opening() -> None:
        await ws.send_json({"type": "hello", "agent": agent})
        if last is not None:
            await ws.send_json({"type": "event", "replay": True, **last.to_json()})
        if monitored is not None:  # after the call's state, which clears the notice
            await ws.send_json({"type": "event", "replay": True, **monitored.to_json()})

    return await hold(request, ws, agent, queue, opening, lambda: _push(ws, agent, queue))
