"""The wrap-up through the API: room warnings and confirmation, agreements with their e-mail, call-backs, escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from dialer.calllog.journal import CallLog
from dialer.dossiers.callbacks import Callback
from dialer.dossiers.casework import Agreement, Complaint, Note
from dialer.dossiers.correspondence import SentEmail
from dialer.dossiers.parties import Debtor
from dialer.dossiers.tasks import Task
from dialer.mail.confirmation import threatening_words
from dialer.storage.database import session_factory
from softphone.processes import free_port
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, SmtpSink, bearer, login, seeded, web_config

TZ = ZoneInfo("Europe/Amsterdam")


def rows(engine: Engine, model: type) -> list[Any]:
    with session_factory(engine)() as session:
        found = list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]
        for row in found:
            if isinstance(row, Agreement):
                row.instalments  # noqa: B018 (load before the session closes)
        return found


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def attempt(engine: Engine, ref: str = "D-1001") -> int:
    return CallLog(session_factory(engine)).open_attempt(
        number="+31201110001", caller_id="+31201234567", caller_id_withheld=False, at=datetime.now(UTC),
        agent="demo", debtor_ref=ref, contact_ref="Jan van Dijk")


def agreements(engine: Engine) -> list[Agreement]:
    """Agreements made in the test (the demo dossiers come with one broken agreement)."""
    return [a for a in rows(engine, Agreement) if a.status == "open"]


def soon(days: int) -> str:
    return (datetime.now(TZ).date() + timedelta(days=days)).isoformat()


def next_business_day(after: str) -> date:
    """The first weekday after `after` that is no Dutch public holiday: the day a promise is followed up."""
    day = date.fromisoformat(after) + timedelta(days=1)
    while day.weekday() >= 5 or day in holidays.country_holidays("NL", years=day.year):
        day += timedelta(days=1)
    return day


async def test_a_first_payment_below_the_minimum_is_warned_then_saved_on_confirmation_and_confirmed_by_email(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient, smtp_sink: SmtpSink) -> None:
    seeded(engine)
    attempt_id = attempt(engine)
    client = await make_client(web_config(db_url, tmp_path, smtp_port=smtp_sink.port))
    csrf = await login(client, "demo", "demo")
    # D-1001 has 1815.00 + 968.00 open; 500.00 first is below 50 %.
    wrap = {"debtor_ref": "D-1001", "attempt_id": attempt_id, "outcome": "promise_to_pay", "contact": "Jan van Dijk",
            "agreement": {"payments": [{"amount": "500.00", "due_date": soon(3)},
                                       {"amount": "2283.00", "due_date": soon(30)}]},
            "note": "Betaalt in twee delen"}
    headers = {"X-CSRF-Token": csrf}
    warned = await client.post("/api/v1/wrapups", json=wrap, headers=headers)
    assert warned.status == 409
    warnings = (await warned.json())["warnings"]
    assert [w["code"] for w in warnings] == ["first_payment_below_minimum"]
    assert warnings[0]["params"]["minimum"] == "1391.50" and "1.391,50" in warnings[0]["message"]
    assert len(agreements(engine)) == count(engine, SentEmail) == count(engine, Note) == 0

    saved = await client.post("/api/v1/wrapups", json={**wrap, "confirm": True}, headers=headers)
    assert saved.status == 201, await saved.text()
    result = await saved.json()
    assert result["email_status"] == "sent" and [w["code"] for w in result["warnings"]] == [
        "first_payment_below_minimum"]
    (agreement,) = agreements(engine)
    assert (agreement.amount, agreement.attempt_id, agreement.agent, agreement.status) == (
        Decimal("2783.00"), attempt_id, "demo", "open")
    assert [(i.seq, i.amount) for i in agreement.instalments] == [(1, Decimal("500.00")), (2, Decimal("2283.00"))]
    follow_up = next(c for c in rows(engine, Callback) if c.kind == "follow_up")
    assert follow_up.agreement_id == agreement.id
    # The day after the first instalment's due date, or the Monday after when that falls in a weekend.
    assert follow_up.due_at.astimezone(TZ).date() == next_business_day(soon(3))
    (note,) = rows(engine, Note)
    assert note.attempt_id == attempt_id and "Betaalt in twee delen" in note.text

    (message,) = await smtp_sink.wait_for(1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert message["To"] == "jan@bakkerij-vandijk.example"
    for point in ("F2026-0412", "F2026-0498", "€ 500,00", "€ 2.283,00", "€ 2.783,00", "Termijn 1", "Termijn 2"):
        assert point in body, point
    assert threatening_words(body) == [] and threatening_words(message["Subject"]) == []
    (email,) = rows(engine, SentEmail)
    assert (email.status, email.agreement_id) == ("sent", agreement.id)


async def test_an_agreement_is_kept_when_the_smtp_server_is_down(engine: Engine, db_url: str, tmp_path: Path,
                                                                 make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path, smtp_port=free_port("tcp")))
    wrap = {"debtor_ref": "D-1004", "outcome": "promise_to_pay", "contact": "Emily Clarke",
            "agreement": {"payments": [{"amount": "3690.00", "due_date": soon(10)}]}}
    saved = await client.post("/api/v1/wrapups", json=wrap, headers=bearer(engine, "demo"))
    assert saved.status == 201, await saved.text()
    assert (await saved.json())["email_status"] == "failed"
    (agreement,) = agreements(engine)
    assert agreement.amount == Decimal("3690.00")
    (email,) = rows(engine, SentEmail)
    assert email.status == "failed" and email.error and email.language == "en"
    assert email.body.startswith("Dear Emily Clarke,")


async def test_a_call_back_appointment_is_stored_in_utc_from_the_teams_local_time(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    year = datetime.now(TZ).year + 1
    wrap = {"debtor_ref": "D-1002", "outcome": "callback", "contact": "Sandra de Vries",
            "callback": {"at": f"{year}-07-15T16:30", "note": "Na haar vakantie"}}
    saved = await client.post("/api/v1/wrapups", json=wrap, headers=headers)
    assert saved.status == 201, await saved.text()
    (appointment,) = [c for c in rows(engine, Callback) if c.kind == "appointment"]
    assert appointment.due_at == datetime(year, 7, 15, 14, 30, tzinfo=UTC)  # CEST is UTC+2
    assert (appointment.agent, appointment.status, appointment.note) == ("demo", "pending", "Na haar vakantie")
    # The last Sunday of March skips 02:00–03:00 in Amsterdam.
    last_sunday = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
    gap = await client.post("/api/v1/wrapups", json={**wrap, "callback": {"at": f"{last_sunday}T02:30"}},
                            headers=headers)
    assert gap.status == 422 and "does not exist" in (await gap.json())["error"]
    past = await client.post("/api/v1/wrapups", json={**wrap, "callback": {"at": "2020-01-01T10:00"}},
                             headers=headers)
    assert past.status == 422


async def test_a_refusal_or_broken_off_call_escalates_to_the_supervisors(engine: Engine, db_url: str,
                                                                          tmp_path: Path,
                                                                          make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    refused = await client.post("/api/v1/wrapups", json={"debtor_ref": "D-1002", "outcome": "refused",
                                                         "note": "Wil niet betalen"}, headers=headers)
    assert refused.status == 201
    broke = await client.post("/api/v1/wrapups", json={"debtor_ref": "D-1002", "outcome": "broke_off",
                                                       "escalation": "written_reminder"}, headers=headers)
    assert broke.status == 201
    tasks = rows(engine, Task)
    assert [(t.kind, t.role, t.status) for t in tasks] == [("collection_agency", "supervisor", "open"),
                                                           ("written_reminder", "supervisor", "open")]
    chef = await make_client(web_config(db_url, tmp_path))
    await login(chef, "chef", "demo")  # pages take a login session, not a token
    page = await chef.get("/tasks")
    assert page.status == 200 and "D-1002" in await page.text()


async def test_a_complaint_with_an_agreement_on_condition(engine: Engine, db_url: str, tmp_path: Path,
                                                          make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    wrap = {"debtor_ref": "D-1003", "outcome": "complaint_raised", "complaint": "Inkt had de verkeerde kleur",
            "complaint_invoices": ["F2026-0533"],
            "agreement": {"payments": [{"amount": "363.00", "due_date": soon(14)}], "invoices": ["F2026-0533"]}}
    saved = await client.post("/api/v1/wrapups", json=wrap, headers=bearer(engine, "demo"))
    assert saved.status == 201, await saved.text()
    result = await saved.json()
    complaint = next(c for c in rows(engine, Complaint) if c.id == result["complaint_id"])
    (agreement,) = agreements(engine)
    assert agreement.conditional_on_complaint_id == complaint.id and complaint.status == "open"
    assert result["email_status"] == "queued"  # no [smtp] host: it waits in the outbox
    (email,) = rows(engine, SentEmail)
    assert "Inkt had de verkeerde kleur" in email.body


async def test_notes_are_saved_with_the_attempt(engine: Engine, db_url: str, tmp_path: Path,
                                                make_client: MakeClient) -> None:
    seeded(engine)
    own, other = attempt(engine, "D-1001"), attempt(engine, "D-1002")
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    saved = await client.post("/api/v1/notes", json={"debtor_ref": "D-1001", "attempt_id": own,
                                                     "text": "Jan belt terug"}, headers=headers)
    assert saved.status == 201
    (note,) = rows(engine, Note)
    assert (note.attempt_id, note.author, note.text) == (own, "demo", "Jan belt terug")
    wrong = await client.post("/api/v1/notes", json={"debtor_ref": "D-1001", "attempt_id": other, "text": "x"},
                              headers=headers)
    assert wrong.status == 422
    assert (await client.post("/api/v1/notes", json={"debtor_ref": "D-1001", "text": " "},
                              headers=headers)).status == 400


async def test_bad_wrap_ups_are_refused_and_write_nothing(engine: Engine, db_url: str, tmp_path: Path,
                                                          make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    cases = [
        ({"debtor_ref": "D-1001", "outcome": "party"}, 422),
        ({"debtor_ref": "D-1001", "outcome": "promise_to_pay"}, 422),
        ({"debtor_ref": "D-1001", "outcome": "promise_to_pay", "agreement": {"payments": []}}, 400),
        ({"debtor_ref": "D-1001", "outcome": "promise_to_pay",
          "agreement": {"payments": [{"amount": "10.001", "due_date": soon(1)}]}}, 422),
        ({"debtor_ref": "D-1001", "outcome": "promise_to_pay",
          "agreement": {"payments": [{"amount": "100.00", "due_date": "2020-01-01"}]}}, 422),
        ({"debtor_ref": "D-1001", "outcome": "promise_to_pay",
          "agreement": {"payments": [{"amount": "100.00", "due_date": "morgen"}]}}, 400),
        ({"debtor_ref": "NOPE", "outcome": "no_contact"}, 404),
        ({"debtor_ref": "D-1001", "outcome": "no_contact", "contact": "Onbekend"}, 422),
        ({"debtor_ref": "D-1001", "outcome": "refused", "escalation": "shout"}, 422),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/wrapups", json=body, headers=headers)
        assert response.status == status, (body, await response.text())
    assert len(agreements(engine)) == count(engine, Note) == count(engine, Task) == 0


async def test_dialling_is_limited_to_the_dossiers_numbers_and_callable_debtors(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    stranger = await client.post("/api/v1/calls", json={"debtor_ref": "D-1001", "number": "+31612345678"},
                                 headers=headers)
    assert stranger.status == 400
    with session_factory(engine).begin() as session:
        session.execute(update(Debtor).where(Debtor.ref == "D-1005").values(do_not_call=True))
    blocked = await client.post("/api/v1/calls", json={"debtor_ref": "D-1005", "number": "+31501110001"},
                                headers=headers)
    assert blocked.status == 409 and (await blocked.json())["reason"] == "do_not_call"
    assert (await client.post("/api/v1/calls", json={"debtor_ref": "NOPE", "number": "+31501110001"},
                              headers=headers)).status == 404
