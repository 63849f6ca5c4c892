"""The JSON API under /api/v1: dossiers, imports, the outbox and the OpenAPI document."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from dialer.core.heap import collector_paused
from dialer.dossiers.dossier import UnknownDebtor
from dialer.dossiers.worklists import recent_emails, search
from dialer.mail.mailer import read_outbox

from .. import db, screenreads
from ..auth import SUPERVISORS, json_error, requires
from ..keys import CONFIG, OUTBOX_DIR
from ..openapi import document
from .pages import today


def _plain(value: Any) -> Any:
    """Importer results as JSON: dataclasses, dates and Decimals made plain."""
    if hasattr(value, "to_json"):
        return _plain(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 document of this API."""
    return web.json_response(document())


async def debtor(request: web.Request) -> web.Response:
    """The whole dossier of one debtor: exactly what `build_dossier` returns."""
    ref, day = request.match_info["ref"], today(request)
    try:
        data = await screenreads.dossier(request, ref, day)
    except UnknownDebtor as exc:
        return json_error(404, str(exc))
    return web.json_response(data)


async def debtor_list(request: web.Request) -> web.Response:
    """Dossiers matching ?q= (reference prefix or part of the name), at most 50."""
    query, day = request.query.get("q", "")[:100], today(request)
    minimum = request.app[CONFIG].queue.min_amount
    rows = await db.run(request, lambda s: search(s, query, today=day, min_amount=minimum))
    return web.json_response({"debtors": [r.to_json() for r in rows]})


def _mapping_from_query(request: web.Request) -> dict[str, str] | None:
    if "mapping" in request.query:
        parsed = json.loads(request.query["mapping"])
        if not isinstance(parsed, dict):
            raise ValueError("mapping must be a JSON object")
        return {str(k): str(v) for k, v in parsed.items()}
    pairs = request.query.getall("map", [])
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        key, sep, value = pair.partition("=") if "=" in pair else pair.partition(":")
        if not sep or not key:
            raise ValueError(f"map={pair!r}: expected FIELD=COLUMN")
        mapping[key] = value
    return mapping


@requires(*SUPERVISORS)
async def import_csv(request: web.Request) -> web.Response:
    """Import a CSV or a workbook (.xlsx, .xls, .ods; ?sheet=, ?header_row=) of `kind`, all or nothing."""
    try:
        from dialer.imports.importer import ImportFailed
        from dialer.imports.importer import import_csv as run_import
    except ImportError:
        return json_error(501, "the importer is not installed")
    kind = request.match_info["kind"]
    if kind == "statement":
        from .payments import api_import_statement
        return await api_import_statement(request)
    if kind == "ubl":
        from .einvoices import api_import_ubl
        return await api_import_ubl(request)
    try:
        mapping = _mapping_from_query(request)
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict) or not isinstance(body.get("csv"), str):
                raise ValueError('a JSON body is {"csv": "...", "mapping": {...}}')
            data = body["csv"].encode("utf-8")
            if isinstance(body.get("mapping"), dict):
                mapping = {str(k): str(v) for k, v in body["mapping"].items()}
        else:
            data = await request.read()
    except ValueError as exc:
        return json_error(400, str(exc))
    if not data.strip():
        return json_error(400, "the body is empty: send the CSV")
    region, day = request.app[CONFIG].numbers.default_region, today(request)
    sheet, header = request.query.get("sheet") or None, request.query.get("header_row", "")
    if header and not (header.isascii() and header.isdigit() and 0 < int(header) < 1_000_000):
        return json_error(400, "header_row must be a row number (1 or more)", field="header_row")
    header_row = int(header) if header else None

    def work(session: Any) -> Any:
        with collector_paused():  # a big file's rows live until the commit: no full collection stalling the loop
            return run_import(session, kind, data, mapping=mapping, region=region, today=day, sheet=sheet,
                              header_row=header_row)

    try:
        result = await db.run(request, work)
    except ImportFailed as exc:  # nothing was written: the transaction rolled back
        errors = [_error_item(item) for item in exc.errors]
        return json_error(422, str(exc) or "the import failed; nothing was imported", errors=errors)
    except (ValueError, LookupError) as exc:
        return json_error(400, str(exc))
    return web.json_response({"kind": kind, "result": _plain(result)})


def _error_item(item: Any) -> dict[str, Any]:
    """One import error as {"row", "column", "message"} (an ImportErrorItem or a (row, column, message) tuple)."""
    if hasattr(item, "message"):
        return {"row": item.row, "column": item.column, "message": item.message}
    row, column, message = item
    return {"row": row, "column": column, "message": message}


async def outbox(request: web.Request) -> web.Response:
    """Sent and failed e-mail, and the messages in the local outbox."""
    emails = await db.run(request, recent_emails)
    files = await asyncio.to_thread(read_outbox, request.app[OUTBOX_DIR])
    return web.json_response({"emails": emails, "outbox": [f.to_json() for f in files]})
