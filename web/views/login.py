"""Logging in and out, and the language switch: the pages that send a browser back where it came from."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp import web

from dialer.accounts.logins import Limits, Locked, Ticket, admit, record_locked, settle
from dialer.accounts.passwords import GateBusy, check
from dialer.accounts.users import close_session, open_session, set_language

from .. import db
from ..auth import COOKIE, LANG_COOKIE, clear_session_cookie, current_user, forget, hash_gate, set_session_cookie
from ..i18n import _, ngettext
from ..keys import CLOCK, CONFIG, DEMO
from ..redirects import local_path
from ..render import render
from .pages import see_other

WRONG = "Wrong name or password."


class BadLogin(ValueError):
    """A login body that cannot be read; the message says why."""


def limits(request: web.Request) -> Limits:
    """The failed-login limits of [web]."""
    cfg = request.app[CONFIG].web
    return Limits(cfg.login_max_failures, cfg.login_max_failures_per_address,
                  timedelta(minutes=cfg.login_lockout_minutes))


def client_address(request: web.Request) -> str:
    """The address failures are counted against: the TCP peer (a proxy in front must pass the real one on)."""
    return request.remote or "unknown"


def locked_text(locked: Locked) -> str:
    """The lockout as a person reads it, in the request's language."""
    return ngettext("Too many attempts, try again in %(num)d minute.",
                    "Too many attempts, try again in %(num)d minutes.", locked.minutes) % {"num": locked.minutes}


async def login_form(request: web.Request) -> web.Response:
    """The login page."""
    return render("login.html", request, {"next": local_path(request.query.get("next")), "error": None})


async def _credentials(request: web.Request) -> tuple[str, str, str | None]:
    if request.content_type == "application/json":
        try:
            data = json.loads(await request.text())
        except (ValueError, RecursionError):
            raise BadLogin(_("The body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise BadLogin(_("The body must be a JSON object with username and password."))
    else:
        data = dict(await request.post())
    name, password = data.get("username") or data.get("name") or "", data.get("password") or ""
    target = data.get("next")
    if not isinstance(name, str) or not isinstance(password, str):
        raise BadLogin(_("username and password must be texts."))
    return name.strip(), password, target if isinstance(target, str) else None


def _refused(request: web.Request, status: int, message: str, target: str | None,
             retry_after: int | None = None) -> web.Response:
    if request.content_type == "application/json":
        body: dict[str, Any] = {"error": message}
        if retry_after is not None:
            body["retry_after"] = retry_after
        response = web.json_response(body, status=status)
    else:
        response = render("login.html", request, {"next": local_path(target), "error": message}, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def checked(request: web.Request, name: str, password: str) -> tuple[Ticket, bool, str | None] | Locked:
    """Count the attempt (refused while locked), then check the password on the argon2 gate; GateBusy if full."""
    now, address = request.app[CLOCK](), client_address(request)
    found = await db.run(request, lambda s: admit(s, name, address, limits=limits(request), now=now))
    if isinstance(found, Locked):
        await db.run(request, lambda s: record_locked(s, name, address, now))
        return found
    ok, new_hash = await hash_gate(request.app).run(check, found.stored_hash, password)
    return found, ok, new_hash


async def login(request: web.Request) -> web.StreamResponse:
    """Check name and password within the limits; on success start a server-side session and set its cookie."""
    try:
        name, password, target = await _credentials(request)
    except BadLogin as exc:
        return web.json_response({"error": str(exc)}, status=400)
    if not name or not password:
        return _refused(request, 401, _(WRONG), target)
    cfg = request.app[CONFIG]
    try:
        found = await checked(request, name, password)
    except GateBusy:
        return _refused(request, 503, _("The server is busy; try again in a moment."), target, retry_after=1)
    if isinstance(found, Locked):
        return _refused(request, 429, locked_text(found), target, retry_after=found.seconds)
    ticket, ok, new_hash = found
    now = request.app[CLOCK]()

    demo = DEMO in request.app

    def finish(session: Any) -> Any:
        # The demo's users (a published password) log in to the demo only: elsewhere a failed login.
        user = settle(session, ticket, password_ok=ok, now=now, new_hash=new_hash, demo=demo)
        return None if user is None else open_session(session, user, now=now, hours=cfg.web.session_hours)

    new = await db.run(request, finish)
    if new is None:
        return _refused(request, 401, _(WRONG), target)
    if request.content_type == "application/json":
        response: web.StreamResponse = web.json_response({"ok": True, "csrf_token": new.csrf_token})
    else:
        response = see_other(local_path(target))
    set_session_cookie(request, response, new.token, int(cfg.web.session_hours * 3600))
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session."""
    token = request.cookies.get(COOKIE, "")
    await db.run(request, lambda s: close_session(s, token))
    forget(request.app, token=token)
    response = see_other("/login")
    clear_session_cookie(request, response)
    return response


async def language(request: web.Request) -> web.StreamResponse:
    """The language switch: remembered for the user (and in a cookie for the login page)."""
    form = await request.post()
    choice = str(form.get("language", ""))
    if choice not in ("nl", "en"):
        raise web.HTTPBadRequest(text="language must be nl or en")
    user = current_user(request)
    await db.run(request, lambda s: set_language(s, user.id, choice))
    forget(request.app, user_id=user.id)
    response = see_other(local_path(form.get("next")))
    response.set_cookie(LANG_COOKIE, choice, max_age=365 * 86400, path="/", samesite="Lax", httponly=True,
                        secure=request.app[CONFIG].web.secure_cookies)
    return response
