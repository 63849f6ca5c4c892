"""The demo's extra: have the open dossier's debtor phone the team number (a simulated caller on loopback)."""

from __future__ import annotations

from aiohttp import web

from dialer.dossiers.callguide import NotInDossier, contact_of
from dialer.dossiers.dossier import UnknownDebtor, build_dossier

from .. import db
from ..auth import json_error
from ..i18n import _
from ..keys import DEMO, TEAM_LINE
from .pages import today


async def call_in(request: web.Request) -> web.Response:
    """{"debtor_ref", "number"?}: that debtor calls the team now (only under `belblok serve --demo`)."""
    network, line = request.app.get(DEMO), request.app.get(TEAM_LINE)
    if network is None or line is None:
        return json_error(404, _("Only the demo can simulate an incoming call."))
    try:
        data = await request.json()
    except ValueError:
        return json_error(400, _("The body must be JSON."))
    if not isinstance(data, dict) or not data.get("debtor_ref"):
        return json_error(400, _("debtor_ref is required"))
    ref, day_ = str(data["debtor_ref"]), today(request)
    try:
        dossier = await db.run(request, lambda s: build_dossier(s, ref, day_))
        numbers = [p["number"] for c in dossier["contacts"] for p in c["phones"]]
        number = str(data.get("number") or (numbers[0] if numbers else ""))
        contact = contact_of(dossier, number)
    except UnknownDebtor as exc:
        return json_error(404, str(exc))
    except NotInDossier as exc:
        return json_error(400, str(exc))
    await network.call_in(number, f"sip:team@127.0.0.1:{line.port}")
    return web.json_response({"debtor_ref": ref, "number": number, "contact": contact}, status=202)
