"""Payments from the bank: a statement uploaded, and the unmatched credits a supervisor assigns or dismisses."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from dialer.banking.assignment import AssignError, assign, dismiss
from dialer.banking.booking import book_statement
from dialer.banking.worklist import unmatched_item, unmatched_list
from dialer.dossiers.unmatched import STATUSES
from dialer.imports.bankfile import read_statement
from dialer.imports.errors import ImportFailed

from .. import db
from ..auth import SUPERVISORS, current_user, json_error, requires
from ..i18n import _
from ..keys import CLOCK, CONFIG
from ..labels import N_
from ..render import render
from .pages import see_other

ITEM = r"{id:\d{1,18}}"
REASON_TEXT = {
    "bad_check_digits": N_("the structured communication's check digits are wrong"),
    "unknown_reference": N_("the payment reference belongs to no open invoice"),
    "ambiguous": N_("it fits more than one debtor"),
    "amount_differs": N_("the payer is known, the amount fits no open invoice"),
    "unknown_payer": N_("no reference, invoice number or known account"),
    "batch": N_("a batch booking without its parts"),
    "currency": N_("another currency than the invoices"),
}
STATUS_WORDS = (N_("open"), N_("assigned"), N_("dismissed"))  # the tabs' and badges' words, for the catalogs
_NUMBERS = re.compile(r"[,;\s]+")
MAX_STATEMENT = 32 * 1024 * 1024


def setup_routes(app: web.Application) -> None:
    """Register the unmatched payments page, its forms, the statement upload and their API."""
    r = app.router
    r.add_get("/payments/unmatched", unmatched_page, name="unmatched_payments")
    r.add_post(f"/payments/unmatched/{ITEM}/assign", assign_form, name="unmatched_assign")
    r.add_post(f"/payments/unmatched/{ITEM}/dismiss", dismiss_form, name="unmatched_dismiss")
    r.add_post("/payments/statement", statement_form, name="statement_upload")
    r.add_get("/api/v1/payments/unmatched", api_unmatched, name="api_unmatched")
    r.add_post(f"/api/v1/payments/unmatched/{ITEM}/assign", api_assign, name="api_unmatched_assign")
    r.add_post(f"/api/v1/payments/unmatched/{ITEM}/dismiss", api_dismiss, name="api_unmatched_dismiss")


def _status(request: web.Request) -> str:
    status = request.query.get("status", "open")
    if status not in (*STATUSES, "all"):
        raise web.HTTPBadRequest(text=_("Unknown status."))
    return status


@requires(*SUPERVISORS)
async def unmatched_page(request: web.Request) -> web.Response:
    """The credits waiting for a supervisor, oldest first, each with a form to assign or dismiss it."""
    booked = {k: request.query[k] for k in ("matched", "unmatched", "already") if request.query.get(k, "").isdigit()}
    return await _page(request, _status(request), booked=booked if len(booked) == 3 else {})


def _numbers(text: str) -> list[str]:
    return [n for n in _NUMBERS.split(text.strip()) if n]


async def _assign(request: web.Request, debtor_ref: str, numbers: list[str]) -> Any:
    item_id, by, now, cfg = (int(request.match_info["id"]), current_user(request).name, request.app[CLOCK](),
                             request.app[CONFIG])
    return await db.run(request, lambda s: assign(s, item_id, debtor_ref, numbers, by=by, cfg=cfg, now=now)[0].id)


async def _dismiss(request: web.Request) -> Any:
    item_id, by, now = int(request.match_info["id"]), current_user(request).name, request.app[CLOCK]()
    return await db.run(request, lambda s: dismiss(s, item_id, by=by, now=now).id)


@requires(*SUPERVISORS)
async def assign_form(request: web.Request) -> web.StreamResponse:
    """Book the credit as the named debtor's payment into the invoices given (none: on account)."""
    form = await request.post()
    try:
        await _assign(request, str(form.get("debtor_ref", "")), _numbers(str(form.get("invoices", ""))))
    except AssignError as exc:
        return await _page_error(request, str(exc))
    return see_other("/payments/unmatched")


@requires(*SUPERVISORS)
async def dismiss_form(request: web.Request) -> web.StreamResponse:
    """Take the credit off the list: it is not a debtor's payment."""
    try:
        await _dismiss(request)
    except AssignError as exc:
        return await _page_error(request, str(exc))
    return see_other("/payments/unmatched")


async def _page(request: web.Request, status: str, *, booked: dict[str, str] | None = None,
                error: str | None = None, code: int = 200) -> web.Response:
    """The page for one status, with the result of an import or the error of a form."""
    found = await db.run(request, lambda s: unmatched_list(s, status))
    for item in found["items"]:
        item["why"] = _(REASON_TEXT.get(item["reason"], item["reason"]))
    return render("payments.html", request, {**found, "booked": booked or {}, "error": error, "statuses": STATUSES},
                  status=code)


async def _page_error(request: web.Request, message: str, code: int = 400) -> web.Response:
    """The open list again, with what was wrong with the form."""
    return await _page(request, "open", error=message, code=code)


async def _book(request: web.Request, data: bytes, name: str) -> Any:
    statement = read_statement(data, name)  # ImportFailed before any transaction
    cfg, now = request.app[CONFIG], request.app[CLOCK]()
    return await db.run(request, lambda s: book_statement(s, statement, source=name, cfg=cfg, now=now))


@requires(*SUPERVISORS)
async def statement_form(request: web.Request) -> web.StreamResponse:
    """A statement file uploaded from the page: booked whole, or refused whole with every problem listed."""
    form = await request.post()
    upload = form.get("file")
    if not hasattr(upload, "file"):
        return await _page_error(request, _("Choose a statement file (camt.053, camt.054 or MT940)."))
    data = upload.file.read(MAX_STATEMENT + 1)  # type: ignore[union-attr]
    if not data.strip() or len(data) > MAX_STATEMENT:
        return await _page_error(request, _("The file is empty or larger than 32 MB."))
    try:
        booked = await _book(request, data, str(upload.filename or "statement")[:200])  # type: ignore[union-attr]
    except ImportFailed as exc:
        lines = "; ".join(str(e) for e in exc.errors[:10])
        return await _page_error(request, _("Nothing was imported: %(problems)s", problems=lines), 422)
    return see_other(f"/payments/unmatched?matched={booked.matched}&unmatched={booked.unmatched}"
                     f"&already={booked.already}")


@requires(*SUPERVISORS)
async def api_unmatched(request: web.Request) -> web.Response:
    """The unmatched list as JSON (?status=open|assigned|dismissed|all)."""
    status = request.query.get("status", "open")
    if status not in (*STATUSES, "all"):
        return json_error(400, f"status must be one of {', '.join((*STATUSES, 'all'))}", field="status")
    return web.json_response(await db.run(request, lambda s: unmatched_list(s, status)))


@requires(*SUPERVISORS)
async def api_assign(request: web.Request) -> web.Response:
    """{"debtor_ref": "D-1", "invoices": ["F-1"]}: book the credit as that debtor's payment."""
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, "the body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("debtor_ref"), str) or not body["debtor_ref"].strip():
        return json_error(400, "debtor_ref is required", field="debtor_ref")
    numbers = body.get("invoices", [])
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers) or len(numbers) > 100:
        return json_error(400, "invoices must be a list of invoice numbers (at most 100)", field="invoices")
    try:
        await _assign(request, body["debtor_ref"], numbers)
    except AssignError as exc:
        return json_error(404 if exc.field == "id" and "no unmatched" in str(exc) else 409 if exc.field == "id"
                          else 422, str(exc), field=exc.field)
    return web.json_response(await _one(request))


@requires(*SUPERVISORS)
async def api_dismiss(request: web.Request) -> web.Response:
    """Take the credit off the list."""
    try:
        await _dismiss(request)
    except AssignError as exc:
        return json_error(404 if "no unmatched" in str(exc) else 409, str(exc), field=exc.field)
    return web.json_response(await _one(request))


async def _one(request: web.Request) -> dict[str, Any]:
    item_id = int(request.match_info["id"])
    found = await db.run(request, lambda s: unmatched_item(s, item_id))
    assert found is not None  # just decided in a committed transaction
    return found


@requires(*SUPERVISORS)
async def api_import_statement(request: web.Request) -> web.Response:
    """POST /api/v1/imports/statement: the file as the body; booked whole or refused whole (422)."""
    data = await request.read()
    if not data.strip():
        return json_error(400, "the body is empty: send the statement file")
    try:
        booked = await _book(request, data, request.query.get("name", "statement")[:200])
    except ImportFailed as exc:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]
        return json_error(422, str(exc), errors=errors)
    return web.json_response({"kind": "statement", "result": {
        "format": booked.format, "credits": booked.credits, "matched": booked.matched, "unmatched": booked.unmatched,
        "already": booked.already, "debits": booked.debits, "skipped": booked.skipped,
        "amount_matched": str(booked.amount_matched), "amount_unmatched": str(booked.amount_unmatched),
        "promises_settled": booked.promises_settled, "how": booked.how}})
