"""The JSON API: dossiers as `build_dossier` makes them, imports all or nothing, and the OpenAPI document."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dialer.dossiers.dossier import build_dossier
from dialer.dossiers.parties import Debtor
from dialer.storage.database import session_factory
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, bearer, login, seeded, web_config
from web.openapi import document

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def debtors(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(Debtor)) or 0)


async def test_a_debtor_is_exactly_its_dossier(engine: Engine, db_url: str, tmp_path: Path,
                                               make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    for ref in ("D-1001", "D-1002", "D-1003", "D-1004", "D-1005"):
        response = await client.get(f"/api/v1/debtors/{ref}", headers=headers)
        assert response.status == 200 and response.content_type == "application/json"
        with session_factory(engine)() as session:
            expected = build_dossier(session, ref, today)
        assert await response.json() == json.loads(json.dumps(expected))


async def test_an_unknown_debtor_is_404_with_a_json_message(engine: Engine, db_url: str, tmp_path: Path,
                                                            make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    response = await client.get("/api/v1/debtors/NOPE-1", headers=bearer(engine, "demo"))
    assert response.status == 404
    assert "NOPE-1" in (await response.json())["error"]


async def test_the_debtor_list_searches_by_reference_and_name(engine: Engine, db_url: str, tmp_path: Path,
                                                              make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = bearer(engine, "demo")
    found = (await (await client.get("/api/v1/debtors?q=bakkerij", headers=headers)).json())["debtors"]
    assert [d["ref"] for d in found] == ["D-1001"]
    small = (await (await client.get("/api/v1/debtors?q=D-1005", headers=headers)).json())["debtors"]
    assert small[0]["below_min_amount"] is True and small[0]["total_open"] == "12.50"
    await login(client, "demo", "demo")  # pages take a login session, not a token
    page = await client.get("/dossiers?q=jansen")
    assert page.status == 200 and "Installatiebedrijf Jansen" in await page.text()


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_openapi_document_is_well_formed() -> None:
    doc = document()
    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    json.dumps(doc)  # plain data
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/")
        params = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS
            operation_ids.append(operation["operationId"])
            assert operation["responses"] and all(re.fullmatch(r"[1-5]\d\d", code) for code in operation["responses"])
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == params, path
            for p in operation.get("parameters", []):
                assert p["in"] in ("path", "query", "header", "cookie") and "schema" in p
                assert p["in"] != "path" or p["required"] is True
    assert len(operation_ids) == len(set(operation_ids))
    for scheme in doc["components"]["securitySchemes"].values():
        assert scheme["type"] in ("http", "apiKey")


async def test_the_openapi_document_is_served_and_covers_every_api_route(engine: Engine, db_url: str,
                                                                         tmp_path: Path,
                                                                         make_client: MakeClient) -> None:
    add_account(engine, "anna", "agent")
    client = await make_client(web_config(db_url, tmp_path))
    response = await client.get("/api/v1/openapi.json", headers=bearer(engine, "anna"))
    assert response.status == 200
    served = await response.json()
    assert served == document()
    routes = {(r.method.lower(), r.resource.canonical) for r in client.app.router.routes()  # type: ignore[union-attr]
              if r.resource is not None and r.resource.canonical.startswith("/api/v1/") and r.method != "HEAD"}
    documented = {(m, p) for p, item in served["paths"].items() for m in item}
    assert routes == documented


CSV_OK = "ref;name;kind;country\nK-1;Kapsalon Knip;bedrijf;NL\nK-2;Autobedrijf Snel;company;NL\n".encode()
CSV_BAD = "ref;name;kind;country\nK-3;Goed;company;NL\nK-4;;company;NL\nK-5;Fout;vliegtuig;NL\n".encode()


async def test_an_import_through_the_api_is_all_or_nothing_with_its_errors(engine: Engine, db_url: str,
                                                                           tmp_path: Path,
                                                                           make_client: MakeClient) -> None:
    add_account(engine, "sam", "supervisor")
    client = await make_client(web_config(db_url, tmp_path))
    headers = {**bearer(engine, "sam"), "Content-Type": "text/csv"}
    response = await client.post("/api/v1/imports/debtors", data=CSV_OK, headers=headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["kind"] == "debtors" and body["result"]["new"] == 2
    assert debtors(engine) == 2

    failed = await client.post("/api/v1/imports/debtors", data=CSV_BAD, headers=headers)
    assert failed.status == 422
    errors = (await failed.json())["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(3, "name"), (4, "kind")}
    assert all(e["message"] for e in errors)
    assert debtors(engine) == 2  # K-3 was fine, but nothing of a failed file is written

    mapped = await client.post("/api/v1/imports/debtors?map=ref=Klantnummer&map=name=Bedrijfsnaam",
                               data="Klantnummer;Bedrijfsnaam\nK-9;Bloemist Roos\n".encode(), headers=headers)
    assert mapped.status == 200, await mapped.text()
    as_json = await client.post("/api/v1/imports/debtors", json={"csv": "Nr;Naam\nK-10;Slagerij Vers\n",
                                                                 "mapping": {"ref": "Nr", "name": "Naam"}},
                                headers=bearer(engine, "sam"))
    assert as_json.status == 200, await as_json.text()
    assert debtors(engine) == 4
    unknown = await client.post("/api/v1/imports/ships", data=CSV_OK, headers=headers)
    assert unknown.status == 400


async def test_the_dossier_stays_exact_with_calls_notes_agreements_and_odd_payments(
        engine: Engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from dialer.calllog.journal import CallLog
    from dialer.dossiers.casework import Agreement, Complaint, Instalment, Note
    from dialer.dossiers.ledger import Invoice, Payment

    seeded(engine)
    log = CallLog(session_factory(engine))
    base = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)
    for n, (answered, ended) in enumerate([(8.0, 60.0), (8.25, 16.5), (2.15, 9.3), (None, 31.0)]):
        at = base + timedelta(minutes=n, microseconds=0 if n % 2 else 123456)
        attempt_id = log.open_attempt(number="+31201110001", caller_id="+31201234567", caller_id_withheld=bool(n % 2),
                                      at=at, agent="demo", debtor_ref="D-1003", contact_ref="Mieke Hendriks")
        log.mark_ringing(attempt_id, at + timedelta(seconds=1))
        if answered is not None:
            log.mark_answered(attempt_id, at + timedelta(seconds=answered))
        log.mark_ended(attempt_id, at=at + timedelta(seconds=ended), outcome="answered" if answered else "no_answer",
                       sip_code=200 if answered else 408, sip_reason="OK", sip_code_source="wire")
    with session_factory(engine).begin() as session:
        debtor_id = session.scalar(select(Debtor.id).where(Debtor.ref == "D-1003"))
        other = session.scalar(select(Invoice.id).where(Invoice.number == "F2026-0412"))  # D-1001's invoice
        invoices = list(session.scalars(select(Invoice).where(Invoice.debtor_id == debtor_id)))
        session.add(Complaint(debtor_id=debtor_id, status="resolved", summary="Twee facturen", opened_on=date(2026, 1, 5),
                              resolved_on=date(2026, 2, 1), invoices=invoices))
        session.add(Payment(debtor_id=debtor_id, invoice_id=other, date=date(2026, 10, 1), amount=Decimal("-5.05"),
                            reference="", natural_key="odd-1"))
        session.add(Payment(debtor_id=debtor_id, invoice_id=None, date=date(2026, 10, 1), amount=Decimal("0.01"),
                            reference="op rekening", natural_key="odd-2"))
        agreement = Agreement(debtor_id=debtor_id, amount=Decimal("2783.00"), due_date=date(2026, 12, 31),
                              status="open", invoice_id=invoices[0].id, agent="demo",
                              created_at=datetime(2026, 11, 20, 10, 0, 0, 5, tzinfo=UTC))
        agreement.instalments = [Instalment(seq=2, amount=Decimal("1391.50"), due_date=date(2026, 12, 31)),
                                 Instalment(seq=1, amount=Decimal("1391.50"), due_date=date(2026, 12, 1))]
        session.add(agreement)
        session.add(Note(debtor_id=debtor_id, author=None, text="Zonder “auteur” — met \\ en \" tekens",
                         created_at=datetime(2026, 11, 21, 8, 0, tzinfo=UTC)))
    client = await make_client(web_config(db_url, tmp_path))
    response = await client.get("/api/v1/debtors/D-1003", headers=bearer(engine, "demo"))
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    with session_factory(engine)() as session:
        expected = json.loads(json.dumps(build_dossier(session, "D-1003", today)))
    served = await response.json()
    assert served == expected
    assert [a["duration_s"] for a in served["attempts"]] == [None, 7.2, 8.2, 52.0]
