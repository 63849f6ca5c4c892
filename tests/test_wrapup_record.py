"""The wrap-up as data: the discount and invoices of its agreement, its outcome row, the recording, the dossier."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dialer.calllog.journal import CallLog
from dialer.demo.data import seed
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement, Complaint, Note
from dialer.dossiers.correspondence import SentEmail
from dialer.dossiers.dossier import build_dossier
from dialer.dossiers.dossiersql import dossier_json, read_dossier, supported
from dialer.dossiers.tasks import Task
from dialer.dossiers.wrapups import WrapUpRecord
from dialer.recordings.model import Recording
from dialer.recordings.store import RecordingStore
from dialer.storage.database import alembic_config, session_factory
from dialer.wrapup.negotiation import NegotiationRoom
from dialer.wrapup.service import (
    AgreementInput,
    CallbackInput,
    NeedsConfirmation,
    Team,
    WrapUp,
    WrapUpInvalid,
    WrapUpResult,
    record,
)
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config

ZONE = "Europe/Amsterdam"
# A discount of up to 3 % for payment in full within 14 days.
TEAM = Team("Testteam", ZONE, NegotiationRoom(discount_pct=Decimal(3), discount_within_days=14))
WRITTEN = (Agreement, WrapUpRecord, Note, Complaint, Callback, Task, SentEmail)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    """The demo dossiers on the migrated test database."""
    with session_factory(engine).begin() as session:
        now = datetime.now(UTC)
        seed(session, now=now, today=now.date())
    return engine


def day(days: int) -> Any:
    return datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=days)


def call(engine: Engine, ref: str, contact: str) -> int:
    return CallLog(session_factory(engine)).open_attempt(
        number="+31201110001", caller_id="+31201234567", caller_id_withheld=False, at=datetime.now(UTC),
        agent="demo", debtor_ref=ref, contact_ref=contact)


def save(engine: Engine, wrap: WrapUp) -> WrapUpResult:
    with session_factory(engine).begin() as session:
        return record(session, wrap, agent="demo", team=TEAM, now=datetime.now(UTC))


def counts(session: Session) -> dict[str, int]:
    return {model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0) for model in WRITTEN}


def dossier(engine: Engine, ref: str) -> dict[str, Any]:
    """The dossier as the CLI and the API serve it; on PostgreSQL the one-statement dossier must equal it."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    with session_factory(engine)() as session:
        built = json.loads(json.dumps(build_dossier(session, ref, today)))
        if supported(session):
            assert dossier_json(session, ref, today) == built
        assert read_dossier(session, ref, today) == built
    return built


def test_a_promise_keeps_its_discount_its_invoices_its_outcome_and_its_recording(demo: Engine) -> None:
    attempt_id = call(demo, "D-1001", "Jan van Dijk")
    recording_id = RecordingStore(session_factory(demo)).register(attempt_id, "/tmp/call.wav", at=datetime.now(UTC))
    # D-1001 owes 1815.00 + 968.00 = 2783.00; 2.5 % off is 69.58, so 2713.42 within a week is inside the room.
    result = save(demo, WrapUp(
        debtor_ref="D-1001", outcome="promise_to_pay", attempt_id=attempt_id, contact="Jan van Dijk",
        agreement=AgreementInput(payments=[("2713.42", day(7))], discount_pct="2.5",
                                 invoices=["F2026-0498", "F2026-0412", "F2026-0498"])))
    assert result.warnings == [] and result.agreement_id is not None and result.wrapup_id is not None

    with session_factory(demo)() as session:
        agreement = session.get(Agreement, result.agreement_id)
        assert agreement is not None
        assert (agreement.discount_pct, agreement.amount) == (Decimal("2.50"), Decimal("2713.42"))
        assert sorted(inv.number for inv in agreement.invoices) == ["F2026-0412", "F2026-0498"]
        assert agreement.invoice_id is None  # more than one invoice: only the links say which
        (row,) = session.scalars(select(WrapUpRecord))
        assert (row.id, row.attempt_id, row.agent, row.outcome, row.escalation, row.agreement_id, row.callback_id) \
            == (result.wrapup_id, attempt_id, "demo", "promise_to_pay", None, agreement.id, None)
        recording = session.get(Recording, recording_id)
        assert recording is not None and recording.agreement_id == agreement.id
        (note,) = session.scalars(select(Note))
        assert note.text == "[promise_to_pay]" and note.attempt_id == attempt_id

    data = dossier(demo, "D-1001")
    made = next(a for a in data["agreements"] if a["id"] == result.agreement_id)
    assert (made["discount_pct"], made["invoices"], made["invoice_number"]) == (
        "2.50", ["F2026-0412", "F2026-0498"], None)
    this_call = next(a for a in data["attempts"] if a["attempt_id"] == attempt_id)
    assert this_call["wrapup"] == {"id": result.wrapup_id, "outcome": "promise_to_pay", "escalation": None,
                                   "agreement_id": result.agreement_id, "callback_id": None, "agent": "demo",
                                   "created_at": this_call["wrapup"]["created_at"]}
    assert datetime.fromisoformat(this_call["wrapup"]["created_at"]).utcoffset() == timedelta(0)


def test_a_recording_that_arrives_after_the_wrap_up_finds_the_agreement_of_its_call(demo: Engine) -> None:
    attempt_id = call(demo, "D-1004", "Emily Clarke")
    result = save(demo, WrapUp(debtor_ref="D-1004", outcome="promise_to_pay", attempt_id=attempt_id,
                               agreement=AgreementInput(payments=[("3690.00", day(10))])))
    recording_id = RecordingStore(session_factory(demo)).register(attempt_id, "/tmp/call.wav", at=datetime.now(UTC))
    with session_factory(demo)() as session:
        recording = session.get(Recording, recording_id)
        assert recording is not None and recording.agreement_id == result.agreement_id is not None


def test_no_invoices_named_links_every_open_invoice_and_one_invoice_is_also_its_invoice_number(demo: Engine) -> None:
    # D-1002: 4235.00 and 605.00 open, three paid invoices from last year.
    every = save(demo, WrapUp(debtor_ref="D-1002", outcome="promise_to_pay", agreement=AgreementInput(
        payments=[("2420.00", day(7)), ("2420.00", day(30))])))
    one = save(demo, WrapUp(debtor_ref="D-1002", outcome="promise_to_pay", agreement=AgreementInput(
        payments=[("605.00", day(7))], invoices=["F2026-0455"])))
    data = dossier(demo, "D-1002")
    by_id = {a["id"]: a for a in data["agreements"]}
    assert (by_id[every.agreement_id]["invoices"], by_id[every.agreement_id]["discount_pct"]) == (
        ["F2026-0377", "F2026-0455"], "0.00")
    assert (by_id[one.agreement_id]["invoices"], by_id[one.agreement_id]["invoice_number"]) == (
        ["F2026-0455"], "F2026-0455")
    broken = [a for a in data["agreements"] if a["status"] == "broken"]  # the demo's, made without invoices
    assert [(a["invoices"], a["discount_pct"]) for a in broken] == [([], "0.00")]
    # Wrap-ups without a call are kept as rows, but no attempt shows them.
    with session_factory(demo)() as session:
        assert session.scalar(select(func.count()).select_from(WrapUpRecord)) == 2
    assert all(a["wrapup"] is None for a in data["attempts"])


def test_the_escalation_and_the_call_back_are_data_and_the_last_wrap_up_of_a_call_shows(demo: Engine) -> None:
    refused, broke, booked = (call(demo, "D-1002", "Kees Jansen") for _ in range(3))
    save(demo, WrapUp(debtor_ref="D-1002", outcome="refused", attempt_id=refused, note="Wil niet betalen"))
    save(demo, WrapUp(debtor_ref="D-1002", outcome="broke_off", attempt_id=broke))
    save(demo, WrapUp(debtor_ref="D-1002", outcome="refused", attempt_id=broke, escalation="written_reminder"))
    year = datetime.now(ZoneInfo(ZONE)).year + 1
    later = save(demo, WrapUp(debtor_ref="D-1002", outcome="callback", attempt_id=booked,
                              callback=CallbackInput(local_time=datetime(year, 7, 15, 16, 30))))
    with session_factory(demo)() as session:
        rows = [(r.attempt_id, r.outcome, r.escalation, r.callback_id)
                for r in session.scalars(select(WrapUpRecord).order_by(WrapUpRecord.id))]
    assert rows == [(refused, "refused", "collection_agency", None), (broke, "broke_off", "written_reminder", None),
                    (broke, "refused", "written_reminder", None), (booked, "callback", None, later.callback_id)]
    shown = {a["attempt_id"]: a["wrapup"] for a in dossier(demo, "D-1002")["attempts"]}
    assert {ref: (w["outcome"], w["escalation"], w["callback_id"]) for ref, w in shown.items()} == {
        refused: ("refused", "collection_agency", None), broke: ("refused", "written_reminder", None),
        booked: ("callback", None, later.callback_id)}


@pytest.mark.parametrize("wrap", [
    # Outside the room (first payment below 50 %), with a complaint that would have been raised first.
    WrapUp(debtor_ref="D-1003", outcome="complaint_raised", complaint="Verkeerde kleur",
           complaint_invoices=["F2026-0533"],
           agreement=AgreementInput(payments=[("10.00", day(3)), ("353.00", day(20))], invoices=["F2026-0533"])),
    # A valid agreement, then an unknown escalation.
    WrapUp(debtor_ref="D-1003", outcome="refused", escalation="shout",
           agreement=AgreementInput(payments=[("363.00", day(7))], invoices=["F2026-0533"])),
    # A valid agreement with a call-back in the past.
    WrapUp(debtor_ref="D-1003", outcome="promise_to_pay", callback=CallbackInput(datetime(2020, 1, 1, 10, 0)),
           agreement=AgreementInput(payments=[("363.00", day(7))], invoices=["F2026-0533"])),
    WrapUp(debtor_ref="D-1003", outcome="promise_to_pay", confirm=True,
           agreement=AgreementInput(payments=[("363.00", day(7))], discount_pct="1.555", invoices=["F2026-0533"])),
    WrapUp(debtor_ref="D-1003", outcome="promise_to_pay", complaint="Nog een klacht", complaint_invoices=["F-NOPE"],
           agreement=AgreementInput(payments=[("363.00", day(7))], invoices=["F2026-0533"])),
    WrapUp(debtor_ref="D-1003", outcome="promise_to_pay", tasks=["send_flowers"],
           agreement=AgreementInput(payments=[("363.00", day(7))], invoices=["F2026-0533"])),
], ids=["needs-confirmation", "bad-escalation", "past-call-back", "discount-decimals", "unknown-invoice",
        "unknown-task"])
def test_a_refused_wrap_up_writes_nothing_not_even_in_its_own_session(demo: Engine, wrap: WrapUp) -> None:
    attempt_id = call(demo, "D-1003", "Mieke Hendriks")
    RecordingStore(session_factory(demo)).register(attempt_id, "/tmp/call.wav", at=datetime.now(UTC))
    wrap = replace(wrap, attempt_id=attempt_id)
    with session_factory(demo)() as session:
        before = counts(session)
        with pytest.raises((WrapUpInvalid, NeedsConfirmation)):
            record(session, wrap, agent="demo", team=TEAM, now=datetime.now(UTC))
        assert counts(session) == before  # counting flushes whatever the session holds
        assert session.scalar(select(Recording.agreement_id)) is None
        session.rollback()
    assert all(a["wrapup"] is None for a in dossier(demo, "D-1003")["attempts"])


async def test_the_api_wrap_up_answers_its_row_and_the_served_dossier_shows_it(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    seeded(engine)
    attempt_id = call(engine, "D-1003", "Mieke Hendriks")
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    wrap = {"debtor_ref": "D-1003", "attempt_id": attempt_id, "outcome": "complaint_raised",
            "complaint": "Inkt had de verkeerde kleur", "complaint_invoices": ["F2026-0533"],
            "agreement": {"payments": [{"amount": "363.00", "due_date": day(14).isoformat()}],
                          "invoices": ["F2026-0533"]}}
    saved = await client.post("/api/v1/wrapups", json=wrap, headers=headers)
    assert saved.status == 201, await saved.text()
    result = await saved.json()
    served = await (await client.get("/api/v1/debtors/D-1003", headers=headers)).json()
    assert served == dossier(engine, "D-1003")
    made = next(a for a in served["agreements"] if a["id"] == result["agreement_id"])
    assert (made["invoices"], made["discount_pct"], made["conditional_on_complaint"]) == (
        ["F2026-0533"], "0.00", result["complaint_id"])
    (this_call,) = [a for a in served["attempts"] if a["attempt_id"] == attempt_id]
    assert (this_call["wrapup"]["id"], this_call["wrapup"]["outcome"], this_call["wrapup"]["agreement_id"]) == (
        result["wrapup_id"], "complaint_raised", result["agreement_id"])


def test_an_agreement_saved_before_the_upgrade_keeps_its_one_invoice(bare_engine: Engine) -> None:
    config = alembic_config(bare_engine)
    with bare_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        stamp = datetime(2026, 11, 1, 9, 0)
        connection.execute(text(
            "INSERT INTO debtors (id, ref, name, kind, country, language, created_at, updated_at) "
            "VALUES (1, 'D-1', 'Bakkerij', 'company', 'NL', 'nl', :t, :t)"), {"t": stamp})
        connection.execute(text(
            "INSERT INTO invoices (id, debtor_id, number, date, due_date, amount, open_amount, currency) "
            "VALUES (7, 1, 'F-7', '2026-09-01', '2026-10-01', 10000, 10000, 'EUR')"))
        connection.execute(text(
            "INSERT INTO agreements (id, debtor_id, amount, due_date, status, invoice_id, created_at) "
            "VALUES (3, 1, 10000, '2026-12-01', 'open', 7, :t), (4, 1, 5000, '2026-12-01', 'open', NULL, :t)"),
            {"t": stamp})
        command.upgrade(config, "head")
    with session_factory(bare_engine)() as session:
        found = {a.id: ([i.number for i in a.invoices], a.discount_pct) for a in session.scalars(select(Agreement))}
    assert found == {3: (["F-7"], Decimal("0.00")), 4: ([], Decimal("0.00"))}
