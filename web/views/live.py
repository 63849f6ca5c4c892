"""The live call over a WebSocket: every event of the agent's desk, pushed as JSON."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web

from ..auth import current_user
from ..keys import HUB, SOCKETS

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
    last = hub.last.get(agent)
    request.app[SOCKETS].add(ws)
    pusher: asyncio.Task[None] | None = None
    try:
        await ws.send_json({"type": "hello", "agent": agent})
        if last is not None:
            await ws.send_json({"type": "event", "replay": True, **last.to_json()})
        pusher = asyncio.ensure_future(_push(ws, agent, queue))
        async for message in ws:
            if message.type == WSMsgType.TEXT and message.data == "ping":
                await ws.send_str("pong")
            elif message.type == WSMsgType.ERROR:
                break
    except ConnectionResetError:
        pass
    finally:
        hub.unlisten(agent, queue)
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        request.app[SOCKETS].discard(ws)
    return ws
