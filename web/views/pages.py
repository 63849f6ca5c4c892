"""HTML pages: the dossier list, the agent screen, the outbox and the supervisors' tasks."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from dialer.dossiers.callguide import dial_blocker, fill, guide_values, load_guide
from dialer.dossiers.dossier import UnknownDebtor
from dialer.dossiers.worklists import open_tasks, recent_emails, search
from dialer.mail.mailer import read_outbox
from dialer.wrapup.service import WrapUpInvalid, add_note

from .. import db, screenreads
from ..auth import SUPERVISORS, current_user, requires
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


async def home(request: web.Request) -> web.StreamResponse:
    """The start page is the dossier list."""
    raise web.HTTPSeeOther(location="/dossiers")


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
        values.update(amount=money(values["amount"], values.get("currency")),
                      due_date=format_day(values["due_date"], "long"))
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
