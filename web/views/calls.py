"""JSON endpoints of the agent screen: dial, hang up, the current call, notes and the wrap-up."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.calls.desk import CallTarget, DeskBusy
from dialer.calls.telephony import AgentLineError
from dialer.dossiers.callguide import NotInDossier, contact_of, dial_blocker
from dialer.dossiers.donotcall import RULE as DNC_RULE
from dialer.dossiers.donotcall import barred
from dialer.dossiers.dossier import UnknownDebtor, build_dossier
from dialer.live.events import LiveEvent
from dialer.mail.mailer import deliver
from dialer.wrapup.negotiation import Breach
from dialer.wrapup.service import (
    NeedsConfirmation,
    NotYourCall,
    Team,
    WrapUpInvalid,
    add_note,
    record,
)
from softphone.client import WorkerError

from .. import db, forms
from ..auth import SUPERVISORS, current_user, json_error
from ..i18n import _, day, money
from ..keys import CLOCK, CONFIG, HUB, MAILER, ROOM, SESSIONS, SWITCHBOARD
from .pages import today


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "the body must be JSON"}', content_type="application/json") from None


async def dial(request: web.Request) -> web.Response:
    """Dial one of the dossier's numbers from the agent's desk: {"debtor_ref", "number"}."""
    data = await _json(request)
    if not isinstance(data, dict) or not data.get("debtor_ref") or not data.get("number"):
        return json_error(400, _("debtor_ref and number are required"))
    ref, number, day_ = str(data["debtor_ref"]), str(data["number"]), today(request)
    try:
        dossier = await db.run(request, lambda s: build_dossier(s, ref, day_))
        contact = contact_of(dossier, number)
    except UnknownDebtor as exc:
        return json_error(404, str(exc))
    except NotInDossier as exc:
        return json_error(400, str(exc))
    blocker = dial_blocker(dossier["debtor"])
    if blocker:
        return json_error(409, _("This debtor may not be phoned ({reason}).").format(reason=blocker), reason=blocker)
    if await db.run(request, lambda s: barred(s, number)):
        return json_error(409, _("This number is on the team's do-not-call list: it may not be phoned."),
                          reason=DNC_RULE)
    user = current_user(request)
    desk = request.app[SWITCHBOARD].desk(user.name, user.agent_line)
    try:
        attempt_id = await desk.dial(CallTarget(number, ref, contact_ref=contact))
    except DeskBusy:
        return json_error(409, _("You are already on a call."), reason="busy")
    except (AgentLineError, WorkerError) as exc:
        return json_error(502, _("The telephone could not place the call: {error}").format(error=exc))
    return web.json_response({"attempt_id": attempt_id, "debtor_ref": ref, "number": number, "contact": contact},
                             status=201)


async def hangup(request: web.Request) -> web.Response:
    """Hang up the agent's current call."""
    user = current_user(request)
    await request.app[SWITCHBOARD].desk(user.name, user.agent_line).hangup()
    return web.json_response({"ok": True})


async def current(request: web.Request) -> web.Response:
    """The agent's latest live event (the state of the current or last call)."""
    last = request.app[HUB].last.get(current_user(request).name)
    return web.json_response({"event": last.to_json() if last else None})


async def note(request: web.Request) -> web.Response:
    """A note taken during the call, saved with the attempt id."""
    try:
        ref, text, attempt_id = forms.note(await _json(request))
    except forms.FormError as exc:
        return json_error(400, str(exc))
    user, now = current_user(request), request.app[CLOCK]()
    try:
        note_id = await db.run(request, lambda s: add_note(s, ref, text, attempt_id=attempt_id, author=user.name,
                                                           now=now, supervisor=user.role in SUPERVISORS))
    except UnknownDebtor as exc:
        return json_error(404, str(exc))
    except NotYourCall as exc:
        return json_error(403, str(exc), reason="not_your_call")
    except WrapUpInvalid as exc:
        return json_error(422, str(exc))
    return web.json_response({"id": note_id, "text": text, "attempt_id": attempt_id, "author": user.name,
                              "created_at": now.isoformat()}, status=201)



def warning_text(warning: Breach, currency: str) -> str:
    """A warning in the agent's language."""
    p = warning.params
    texts = {
        "first_payment_below_minimum": lambda: _("The first payment ({amount}) is below the minimum of {pct}% "
                                                 "({minimum}).").format(amount=money(p["amount"], currency),
                                                                        pct=p["pct"],
                                                                        minimum=money(p["minimum"], currency)),
        "too_many_instalments": lambda: _("{count} payments; at most {maximum} are allowed.").format(**p),
        "beyond_term": lambda: _("The last payment ({date}) is later than allowed ({latest}, {days} days).").format(
            date=day(p["date"]), latest=day(p["latest"]), days=p["days"]),
        "discount_not_allowed": lambda: _("A discount of {pct}% is not allowed here (at most {maximum}%, and only "
                                          "for payment in full by {latest}).").format(
            pct=p["pct"], maximum=p["maximum"], latest=day(p["latest"])),
        "total_below_open": lambda: _("The payments add up to {total}, less than the {due} that is due.").format(
            total=money(p["total"], currency), due=money(p["due"], currency)),
        "total_above_open": lambda: _("The payments add up to {total}, more than the {due} that is due.").format(
            total=money(p["total"], currency), due=money(p["due"], currency)),
        "below_min_amount": lambda: _("Only {open} is open, below the minimum amount worth a call ({minimum})."
                                      ).format(open=money(p["open"], currency), minimum=money(p["minimum"], currency)),
    }
    return texts[warning.code]() if warning.code in texts else warning.code


def _warnings(warnings: list[Breach], currency: str) -> list[dict[str, Any]]:
    return [{**w.to_json(), "message": warning_text(w, currency)} for w in warnings]


async def wrap_up(request: web.Request) -> web.Response:
    """Record the wrap-up; 409 with warnings when the agreement needs confirming; then send the confirmation."""
    try:
        wrap = forms.wrap_up(await _json(request))
    except forms.FormError as exc:
        return json_error(400, str(exc))
    app, user = request.app, current_user(request)
    cfg = app[CONFIG]
    team = Team(cfg.team.name, cfg.team.timezone, app[ROOM], config=cfg, country=cfg.team.country)
    now = app[CLOCK]()
    try:
        result = await db.run(request, lambda s: record(s, wrap, agent=user.name, team=team, now=now,
                                                        supervisor=user.role in SUPERVISORS))
    except UnknownDebtor as exc:
        return json_error(404, str(exc))
    except NotYourCall as exc:
        return json_error(403, str(exc), reason="not_your_call")
    except WrapUpInvalid as exc:
        return json_error(422, str(exc))
    except NeedsConfirmation as exc:
        return json_error(409, _("This agreement leaves the negotiation room: confirm to save it anyway."),
                          warnings=_warnings(exc.warnings, cfg.team.currency))
    # The floor moves the agent from wrap-up back to ready (web/ tells; dialer.live.states decides).
    app[HUB].publish(LiveEvent(agent=user.name, kind="wrapped_up", at=now, debtor_ref=wrap.debtor_ref,
                               attempt_id=wrap.attempt_id))
    body = result.to_json()
    body["warnings"] = _warnings(result.warnings, cfg.team.currency)
    body["email_status"] = None
    if result.email_id is not None:  # the agreement is committed: a failing SMTP server cannot lose it
        body["email_status"] = await deliver(app[SESSIONS], app[MAILER], result.email_id)
    return web.json_response(body, status=201)
