"""Errors around the handlers: the API answers 404 and 405 in JSON, and a body nested too deep is a 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .auth import json_error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn the router's plain-text 404/405 into the API's JSON, and a RecursionError from parsing into a 400."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        if not request.path.startswith("/api/"):
            raise
        allowed = ", ".join(sorted(exc.allowed_methods))
        answer = json_error(405, f"{request.method} is not allowed here: use {allowed}", allowed=allowed)
        answer.headers["Allow"] = allowed
        return answer
    except web.HTTPNotFound as exc:
        if not request.path.startswith("/api/") or exc.content_type == "application/json":
            raise
        return json_error(404, "no such address in the API: the addresses are in /api/v1/openapi.json")
    except RecursionError:  # json.loads on a body nested thousands deep
        return json_error(400, "the JSON body is nested too deeply")
