"""Accounts in the panel: your own password (`/account`), and the team's users and failed logins (`/users`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.accounts.lifecycle import set_enabled, set_password_hash
from dialer.accounts.logins import Locked, confirm, recent_events
from dialer.accounts.passwords import GateBusy, make_hash
from dialer.accounts.users import AccountError, find_user, list_users, open_session

from .. import db
from ..auth import (
    SUPERVISORS,
    current_user,
    forget,
    hash_gate,
    requires,
    set_session_cookie,
)
from ..i18n import _
from ..keys import CLOCK, CONFIG
from ..labels import N_
from ..render import render
from .login import checked, locked_text
from .pages import see_other

ADMINS = ("admin",)
WHY = {"wrong_password": N_("wrong password"), "unknown_user": N_("unknown name"), "disabled": N_("account disabled"),
       "locked": N_("refused: too many attempts")}


def setup_routes(app: web.Application) -> None:
    """Register the account and users pages."""
    r = app.router
    r.add_get("/account", account_page, name="account")
    r.add_post("/account", change_password)
    r.add_get("/users", users_page, name="users")
    r.add_post("/users/{name}/enable", enable_user, name="user_enable")
    r.add_post("/users/{name}/disable", disable_user, name="user_disable")


async def account_page(request: web.Request) -> web.Response:
    """The form to change your own password."""
    changed = request.query.get("changed") == "1"
    return render("account.html", request, {"error": None, "changed": changed})


def _account_error(request: web.Request, message: str, status: int, retry_after: int | None = None) -> web.Response:
    response = render("account.html", request, {"error": message, "changed": False}, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def change_password(request: web.Request) -> web.StreamResponse:
    """Check the current password (within the login limits), store the new one, end every other session and token."""
    form = await request.post()
    current, new, repeat = (str(form.get(k, "")) for k in ("current_password", "new_password", "repeat_password"))
    if not new:
        return _account_error(request, _("The new password must not be empty."), 400)
    if new != repeat:
        return _account_error(request, _("The new password and its repetition differ."), 400)
    user, now, cfg = current_user(request), request.app[CLOCK](), request.app[CONFIG]
    if not current:
        return _account_error(request, _("The current password is not right."), 400)
    try:
        found = await checked(request, user.name, current)
        if isinstance(found, Locked):
            return _account_error(request, locked_text(found), 429, retry_after=found.seconds)
        ticket, ok, _rehash = found
        if not await db.run(request, lambda s: confirm(s, ticket, password_ok=ok, now=now)):
            return _account_error(request, _("The current password is not right."), 400)
        new_hash = await hash_gate(request.app).run(make_hash, new)
    except GateBusy:
        return _account_error(request, _("The server is busy; try again in a moment."), 503, retry_after=1)

    def store(session: Any) -> Any:
        changed = set_password_hash(session, user.name, new_hash, now=now)  # every session ends, this one too
        return open_session(session, changed, now=now, hours=cfg.web.session_hours)  # … and this browser gets anew

    fresh = await db.run(request, store)
    forget(request.app, user_id=user.id)
    response = see_other("/account?changed=1")
    set_session_cookie(request, response, fresh.token, int(cfg.web.session_hours * 3600))
    return response


@requires(*SUPERVISORS)
async def users_page(request: web.Request) -> web.Response:
    """Every user with role, state and last login, and the latest failed logins; admins may enable and disable."""

    def read(session: Any) -> dict[str, Any]:
        users = [{"name": u.name, "role": u.role, "enabled": u.enabled, "last_login_at": u.last_login_at}
                 for u in list_users(session)]
        failed = [{"at": e.at, "name": e.name, "address": e.address, "outcome": e.outcome}
                  for e in recent_events(session, failed_only=True, limit=50)]
        return {"users": users, "failed": failed}

    found = await db.run(request, read)
    for event in found["failed"]:
        event["why"] = _(WHY.get(event["outcome"], event["outcome"]))
    return render("users.html", request, {**found, "may_change": current_user(request).role in ADMINS})


async def _switch(request: web.Request, enabled: bool) -> web.StreamResponse:
    name = request.match_info["name"]
    me = current_user(request)
    if not enabled and name == me.name:
        raise web.HTTPBadRequest(text=_("You cannot disable your own account."))
    now = request.app[CLOCK]()

    def switch(session: Any) -> int:
        if find_user(session, name) is None:
            raise web.HTTPNotFound(text=_("No user with that name."))
        return set_enabled(session, name, enabled, now=now).id

    try:
        user_id = await db.run(request, switch)
    except AccountError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    forget(request.app, user_id=user_id)  # this coordinator's cache: the user's sessions end now
    return see_other("/users")


@requires(*ADMINS)
async def enable_user(request: web.Request) -> web.StreamResponse:
    """Let a disabled user log in again (admins only)."""
    return await _switch(request, True)


@requires(*ADMINS)
async def disable_user(request: web.Request) -> web.StreamResponse:
    """Stop a user from logging in; their sessions and tokens end at once (admins only)."""
    return await _switch(request, False)

