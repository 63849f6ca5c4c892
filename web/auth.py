"""Who is asking: login sessions (cookie) and bearer tokens, roles, and the login-required rule."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from typing import Any

from aiohttp import web

from dialer.accounts.passwords import HashGate
from dialer.accounts.users import Identity, identity, session_login, sha256, token_user

from .i18n import _, current_language
from .keys import CLOCK, CONFIG, CSRF, DEMO, LOGINS, SESSIONS, USER, VIA

COOKIE = "belblok_session"
LANG_COOKIE = "belblok_lang"
PUBLIC_PATHS = ("/login",)
PUBLIC_PREFIXES = ("/static/",)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_api(request: web.Request) -> bool:
    """True for the JSON API and the WebSocket, which answer 401 instead of redirecting."""
    return request.path.startswith("/api/") or request.path == "/ws"


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    """A JSON error body {"error": message, ...} with the given status."""
    return web.json_response({"error": message, **extra}, status=status)


CACHE_SECONDS = 10.0  # how long a resolved token is trusted without asking the database again
CACHE_LIMIT = 10_000

Found = tuple[Identity, str | None, str, datetime | None]  # user, CSRF token, "bearer"|"cookie", session expiry


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _credentials(request: web.Request) -> tuple[str, str] | None:
    """A bearer token on the API (and its WebSocket) only; pages and forms know only the session cookie."""
    token = _bearer(request)
    if token is not None and is_api(request):
        return "bearer", token
    token = request.cookies.get(COOKIE)
    return ("cookie", token) if token else None


def _lookup(request: web.Request, via: str, token: str) -> Found | None:
    """Resolve a bearer token or a session cookie in the database (runs in a thread)."""
    app = request.app
    now = app[CLOCK]()
    with app[SESSIONS].begin() as session:
        demo = DEMO in app  # a user the demo made counts only in the demo (its password is published)
        if via == "bearer":
            user = token_user(session, token, now=now)
            return (identity(user), None, "bearer", None) if user is not None and (demo or not user.demo) else None
        found = session_login(session, token, now=now)
        if found is not None and (demo or not found[0].demo):
            return identity(found[0]), found[1], "cookie", found[2]
    return None


async def _resolve(request: web.Request) -> Found | None:
    """The request's user; a hit of the last CACHE_SECONDS saves the database a round trip per request."""
    credentials = _credentials(request)
    if credentials is None:
        return None
    cache: dict[tuple[str, str], tuple[float, Found]] = request.app[LOGINS]
    key = (credentials[0], sha256(credentials[1]))
    hit = cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        expires = hit[1][3]
        if expires is None or expires > request.app[CLOCK]():
            return hit[1]
    found = await asyncio.to_thread(_lookup, request, *credentials)
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    if found is None:
        cache.pop(key, None)
    else:
        cache[key] = (time.monotonic() + CACHE_SECONDS, found)
    return found


_GATES: weakref.WeakKeyDictionary[web.Application, HashGate] = weakref.WeakKeyDictionary()


def hash_gate(app: web.Application) -> HashGate:
    """The app's argon2 gate: password checks on two threads of their own, sixteen more may wait."""
    gate = _GATES.get(app)
    if gate is None:
        gate = _GATES[app] = HashGate(workers=2, queue=16)
    return gate


def forget(app: web.Application, *, token: str | None = None, user_id: int | None = None) -> None:
    """Drop cached credentials: a session token at logout, or everything of a user whose data changed."""
    cache: dict[tuple[str, str], tuple[float, Found]] = app[LOGINS]
    if token is not None:
        cache.pop(("cookie", sha256(token)), None)
    if user_id is not None:
        for key in [k for k, (_, found) in cache.items() if found[0].id == user_id]:
            cache.pop(key, None)


def _is_feed(request: web.Request) -> bool:
    """Calendar feeds authenticate with their own token (calendar apps cannot log in)."""
    return request.method == "GET" and request.path.startswith("/calendar/") and request.path.endswith(".ics")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route needs a login except the login page and static files."""
    if request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES) or _is_feed(request):
        return await handler(request)
    found = await _resolve(request)
    if found is None:
        bearer = _bearer(request) is not None
        if bearer and not is_api(request):
            # A token stolen from an API client must not open the panel's pages or post its forms.
            return web.Response(status=401, text=_("API tokens are accepted on /api/ only; log in to use the panel."))
        if is_api(request):
            response = json_error(401, _("invalid or unknown token") if bearer else _("login required"))
            response.headers["WWW-Authenticate"] = 'Bearer realm="belblok"'
            return response
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(location=str(request.app.router["login"].url_for().with_query(next=target)))
    user, csrf, via, _expires = found
    request[USER] = user
    request[CSRF] = csrf or ""
    request[VIA] = via
    if user.language:
        current_language.set(user.language)
    return await handler(request)


def current_user(request: web.Request) -> Identity:
    """The logged-in user of this request (set by the middleware)."""
    return request[USER]


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Only users with one of `roles` may use this route (403 otherwise)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            if current_user(request).role not in roles:
                if is_api(request):
                    return json_error(403, _("your role may not do this"))
                raise web.HTTPForbidden(text=_("Your role may not open this page."))
            return await handler(request)

        return guarded

    return decorate


SUPERVISORS = ("supervisor", "admin")


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str, max_age: int) -> None:
    """The session cookie: HTTP-only, SameSite=Lax, Secure unless [web] secure_cookies is false."""
    response.set_cookie(COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="Lax",
                        secure=request.app[CONFIG].web.secure_cookies)


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Remove the session cookie."""
    response.del_cookie(COOKIE, path="/", secure=request.app[CONFIG].web.secure_cookies, httponly=True,
                        samesite="Lax")
