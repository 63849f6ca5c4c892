"""HTML pages: login, the dossier list, the agent screen, the outbox and the supervisors' tasks."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from dialer.accounts.users import (
    close_session,
    open_session,
    set_language,
    verify_password,
)
from dialer.dossiers.callguide import dial_blocker, fill, guide_values, load_guide
from dialer.dossiers.dossier import UnknownDebtor
from dialer.dossiers.worklists import open_tasks, recent_emails, search
from dialer.mail.mailer import read_outbox
from dialer.wrapup.service import WrapUpInvalid, add_note

from .. import db, screenreads
from ..auth import (
    COOKIE,
    LANG_COOKIE,
    SUPERVISORS,
    clear_session_cookie,
    current_user,
    forget,
    requires,
    set_session_cookie,
)
from ..i18n import _, current_language, money
from ..i18n import day as format_day
from ..keys import CLOCK, CONFIG, CONFIG_DIR, OUTBOX_DIR, PANEL_SETUP, ROOM
from ..render import render, script_json


def today(request: web.Request) -> Any:
    """Today in the team's time zone."""
    return request.app[CLOCK]().astimezone(ZoneInfo(request.app[CONFIG].team.timezone)).date()


def see_other(location: str) -> web.Response:
    """A 303 redirect that can carry cookies (raising HTTPSeeOther would drop them)."""
    return web.Response(status=303, headers={"Location": location})


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dossiers"
    return target


async def home(request: web.Request) -> web.StreamResponse:
    """The start page is the dossier list."""
    raise web.HTTPSeeOther(location="/dossiers")


async def login_form(request: web.Request) -> web.Response:
    """The login page."""
    return render("login.html", request, {"next": _safe_next(request.query.get("next")), "error": None})


async def _credentials(request: web.Request) -> tuple[str, str, str | None]:
    if request.content_type == "application/json":
        data = await request.json()
        if not isinstance(data, dict):
            data = {}
    else:
        data = dict(await request.post())
    name = str(data.get("username") or data.get("name") or "").strip()
    return name, str(data.get("password") or ""), data.get("next")  # type: ignore[return-value]


async def login(request: web.Request) -> web.StreamResponse:
    """Check name and password; on success start a server-side session and set its cookie."""
    name, password, target = await _credentials(request)
    cfg = request.app[CONFIG]
    now = request.app[CLOCK]()

    def attempt(session: Any) -> Any:
        user = verify_password(session, name, password) if name and password else None
        return None if user is None else (open_session(session, user, now=now, hours=cfg.web.session_hours),
                                          user.language)

    opened = await db.run(request, attempt)
    if opened is None:
        if request.content_type == "application/json":
            return web.json_response({"error": _("Wrong name or password.")}, status=401)
        return render("login.html", request, {"next": _safe_next(target), "error": _("Wrong name or password.")},
                      status=401)
    new, language = opened
    if request.content_type == "application/json":
        response: web.StreamResponse = web.json_response({"ok": True, "csrf_token": new.csrf_token})
    else:
        response = see_other(_safe_next(target))
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
    response = see_other(_safe_next(str(form.get("next", ""))))
    response.set_cookie(LANG_COOKIE, choice, max_age=365 * 86400, path="/", samesite="Lax", httponly=True,
                        secure=request.app[CONFIG].web.secure_cookies)
    return response


async def dossier_list(request: web.Request) -> web.Response:
    """The dossiers, searchable by reference or name."""
    query = request.query.get("q", "")[:100]
    day, minimum = today(request), request.app[CONFIG].queue.min_amount
    rows = await db.run(request, lambda s: search(s, query, today=day, min_amount=minimum))
    return render("dossiers.html", request, {"rows": rows, "q": query})


async def dossier_page(request: web.Request) -> web.Response:
    """The agent screen: the dossier as the handbook's checklist, the live call, guide, room and wrap-up."""
    ref = request.match_info["ref"]
    day = today(request)
    try:
        dossier, plans = await screenreads.screen(request, ref, day)  # one round trip for both
    except UnknownDebtor:
        raise web.HTTPNotFound(text=_("No dossier with that reference.")) from None
    cfg, room = request.app[CONFIG], request.app[ROOM]
    debtor = dossier["debtor"]
    user = current_user(request)
    values = guide_values(dossier, agent=user.name, team=cfg.team.name)
    if "amount" in values:  # shown as the agent would say them: in the page's language
        values.update(amount=money(values["amount"], values.get("currency")), due_date=format_day(values["due_date"], "long"))
    guide = fill(load_guide(current_language.get(), request.app[CONFIG_DIR] / "callguide"), values)
    total_open = Decimal(debtor["total_open"] or "0")
    blocker = dial_blocker(debtor)
    panel = {"debtor_ref": debtor["ref"], "agent": user.name, "total_open": debtor["total_open"], "blocked": blocker}
    return render("dossier.html", request, {
        "d": dossier, "debtor": debtor, "agenda": plans, "guide": guide, "room": room, "today": day,
        "blocker": blocker, "below_min": total_open < room.min_amount,
        "min_first": (total_open * room.min_first_payment_pct / 100).quantize(Decimal("0.01")),
        "panel": panel, "panel_setup": panel_setup(request), "currency": debtor["currency"] or cfg.team.currency,
        "local_now": datetime.now(ZoneInfo(cfg.team.timezone)).strftime("%Y-%m-%dT%H:%M"),
        "recording_policy": cfg.recording.policy,
    })


def panel_setup(request: web.Request) -> Markup:
    """The panel script's data that no dossier changes (time zone, negotiation room, texts): JSON, once a language."""
    made = request.app[PANEL_SETUP]
    language = current_language.get()
    found = made.get(language)
    if found is None:
        cfg = request.app[CONFIG]
        found = made[language] = script_json({"timezone": cfg.team.timezone, "room": request.app[ROOM].to_json(),
                                              "messages": panel_messages()})
    return found


def panel_messages() -> dict[str, str]:
    """Texts the panel's script shows, in the request's language."""
    return {
        "idle": _("No call"), "dialing": _("Dialling…"), "ringing": _("Ringing…"), "answered": _("Connected"),
        "ended": _("Call ended"), "withheld": _("Caller ID withheld"), "error": _("Something went wrong"),
        "confirm": _("Confirm and save anyway"), "saved": _("Wrap-up saved."),
        "email_sent": _("Confirmation e-mail sent."), "email_failed": _("The confirmation e-mail could not be sent; "
                                                                        "it is marked as failed in the outbox."),
        "email_queued": _("The confirmation e-mail is waiting in the outbox."),
        "email_missing": _("No e-mail address known: confirm the agreement in writing."),
        "warnings": _("This agreement leaves the negotiation room:"), "note_saved": _("Note saved."),
        "live_lost": _("Live connection lost — reconnecting…"), "attempt": _("Attempt"),
    }


async def note_form(request: web.Request) -> web.Response:
    """The notes form without JavaScript: save the note, back to the dossier."""
    ref = request.match_info["ref"]
    form = await request.post()
    text = str(form.get("text", "")).strip()
    attempt = str(form.get("attempt_id", "")).strip()
    user, now = current_user(request), request.app[CLOCK]()
    if text:
        try:
            await db.run(request, lambda s: add_note(s, ref, text, attempt_id=int(attempt) if attempt.isdigit()
                                                     else None, author=user.name, now=now))
        except UnknownDebtor:
            raise web.HTTPNotFound(text=_("No dossier with that reference.")) from None
        except WrapUpInvalid as exc:
            raise web.HTTPUnprocessableEntity(text=str(exc)) from None
    return see_other(f"/dossiers/{ref}#c-calls")


async def outbox(request: web.Request) -> web.Response:
    """Confirmation e-mails: what was sent or failed, and what landed in the local outbox."""
    emails = await db.run(request, recent_emails)
    files = await asyncio.to_thread(read_outbox, request.app[OUTBOX_DIR])
    return render("outbox.html", request, {"emails": emails, "files": files})


@requires(*SUPERVISORS)
async def tasks(request: web.Request) -> web.Response:
    """The supervisors' open tasks: escalations (written reminder, hand-over to a collection agency)."""
    rows = await db.run(request, lambda s: open_tasks(s, role="supervisor"))
    return render("tasks.html", request, {"tasks": rows})
