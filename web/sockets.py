"""A pushed WebSocket: an opening, then a task sending the hub's events while the client's pings are answered."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from .keys import HUB, SOCKETS


async def hold(request: web.Request, ws: web.WebSocketResponse, channel: str, events: asyncio.Queue,
               opening: Callable[[], Awaitable[None]], push: Callable[[], Awaitable[None]]) -> web.WebSocketResponse:
    """Send `opening`, run `push` until the client leaves, then stop listening to `channel` and forget the socket."""
    request.app[SOCKETS].add(ws)  # closed at shutdown with the others
    pusher: asyncio.Future[None] | None = None
    try:
        await opening()
        pusher = asyncio.ensure_future(push())
        async for message in ws:
            if message.type == WSMsgType.TEXT and message.data == "ping":
                await ws.send_str("pong")
            elif message.type == WSMsgType.ERROR:
                break
    except ConnectionResetError:
        pass
    finally:
        request.app[HUB].unlisten(channel, events)
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        request.app[SOCKETS].discard(ws)
    return ws
