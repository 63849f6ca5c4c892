"""E-invoices through the API: one UBL / Peppol invoice or credit note a request, imported whole or refused."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from dialer.imports.einvoice import import_einvoices
from dialer.imports.errors import ImportFailed
from dialer.imports.ubl import read_documents

from .. import db
from ..auth import SUPERVISORS, json_error, requires
from ..keys import CLOCK, CONFIG
from .pages import today


@requires(*SUPERVISORS)
async def api_import_ubl(request: web.Request) -> web.Response:
    """POST /api/v1/imports/ubl?name=F-1.xml: the document as the body → the counts, or 422 with every problem."""
    data = await request.read()
    if not data.strip():
        return json_error(400, "the body is empty: send the UBL document")
    name = request.query.get("name", "document.xml")[:200]
    try:
        documents = read_documents([(name, data)], region=request.app[CONFIG].numbers.default_region)
        day, now = today(request), request.app[CLOCK]()
        result = await db.run(request, lambda s: import_einvoices(s, documents, today=day, now=now))
    except ImportFailed as exc:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]
        return json_error(422, str(exc), errors=errors)
    return web.json_response({"kind": "ubl", "result": dataclasses.asdict(result)})
