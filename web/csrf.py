"""CSRF protection: a POST from a cookie session must carry that session's token (form field or header)."""

from __future__ import annotations

import hmac

from aiohttp import web

from .auth import Handler, is_api, json_error
from .i18n import _
from .keys import CSRF, VIA

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


async def _presented(request: web.Request) -> str:
    if request.headers.get(HEADER):
        return request.headers[HEADER]
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # cached by aiohttp: the view reads the same form
        value = form.get(FIELD)
        return value if isinstance(value, str) else ""
    return ""


def _same_origin(request: web.Request) -> bool:
    """A browser's Origin (when sent) must be this host: stops login CSRF and cross-site WebSockets."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("Host", request.host)
    return origin.split("://", 1)[-1] == host


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (403, nothing done) an unsafe request of a cookie session without its CSRF token."""
    if request.method in SAFE_METHODS and request.path != "/ws":
        return await handler(request)
    if not _same_origin(request):
        return _refuse(request)
    if request.get(VIA) == "cookie" and request.method not in SAFE_METHODS:
        expected = request.get(CSRF) or ""
        presented = await _presented(request)
        if not expected or not presented or not hmac.compare_digest(expected, presented):
            return _refuse(request)
    return await handler(request)


def _refuse(request: web.Request) -> web.Response:
    message = _("The form was not accepted (security token missing or wrong). Reload the page and try again.")
    if is_api(request):
        return json_error(403, message)
    return web.Response(status=403, text=message)
