"""Bad input gets a clear 4xx with a message naming the field, never a 500, and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dialer.calllog.journal import CallLog
from dialer.dossiers.casework import Agreement, Note
from dialer.dossiers.wrapups import WrapUpRecord
from dialer.storage.database import session_factory
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, bearer, seeded, web_config

HUGE = 99999999999999999999999
SOON = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()


def promise(amount: Any = "100.00", due: str = SOON, **agreement: Any) -> dict[str, Any]:
    return {"debtor_ref": "D-1001", "outcome": "promise_to_pay", "confirm": True,
            "agreement": {"payments": [{"amount": amount, "due_date": due}], **agreement}}


NOTE = {"debtor_ref": "D-1001", "text": "x"}
CASES: list[tuple[str, str, str, Any, str]] = [
    # (name, method, path, JSON body or raw bytes, a word the error must name)
    ("bookmark body a list", "POST", "/api/v1/calls/bookmarks", [1, 2], "object"),
    ("bookmark body a string", "POST", "/api/v1/calls/bookmarks", "promise", "object"),
    ("bookmark body a number", "POST", "/api/v1/calls/bookmarks", 7, "object"),
    ("session body a list", "POST", "/api/v1/session/pause", ["x"], "object"),
    ("session body a number", "POST", "/api/v1/session/start", 3, "object"),
    ("recording id beyond 64 bits", "GET", f"/api/v1/recordings/{HUGE}", None, "API"),
    ("attempt id beyond 64 bits", "POST", "/api/v1/notes", {**NOTE, "attempt_id": HUGE}, "attempt_id"),
    ("attempt id a fraction", "POST", "/api/v1/notes", {**NOTE, "attempt_id": 1.9}, "attempt_id"),
    ("attempt id true", "POST", "/api/v1/notes", {**NOTE, "attempt_id": True}, "attempt_id"),
    ("complaint id beyond 64 bits", "POST", "/api/v1/wrapups", promise(conditional_on_complaint=HUGE),
     "conditional_on_complaint"),
    ("amount beyond the column", "POST", "/api/v1/wrapups", promise("99999999999999999999.00"), "amount"),
    ("amount in Arabic-Indic digits", "POST", "/api/v1/wrapups", promise("٣٠٠"), "amount"),
    ("amount in full-width digits", "POST", "/api/v1/wrapups", promise("３００.００"), "amount"),
    ("amount with an underscore", "POST", "/api/v1/wrapups", promise("3_00.00"), "amount"),
    ("amount true", "POST", "/api/v1/wrapups", promise(True), "amount"),
    ("discount not a number", "POST", "/api/v1/wrapups", promise(discount_pct="abc"), "discount_pct"),
    ("due date in year 1", "POST", "/api/v1/wrapups", promise(due="0001-01-01"), "due_date"),
    ("due date in year 9999", "POST", "/api/v1/wrapups", promise(due="9999-12-31"), "due_date"),
    ("a thousand instalments", "POST", "/api/v1/wrapups",
     {**promise(), "agreement": {"payments": [{"amount": "1.00", "due_date": SOON}] * 1000}}, "payments"),
    ("call-back in year 9999", "POST", "/api/v1/wrapups",
     {"debtor_ref": "D-1001", "outcome": "callback", "callback": {"at": "9999-12-31T23:59"}}, "callback.at"),
    ("call-back in year 1", "POST", "/api/v1/wrapups",
     {"debtor_ref": "D-1001", "outcome": "callback", "callback": {"at": "0001-01-01T00:00"}}, "callback.at"),
    ("a lone surrogate in a note", "POST", "/api/v1/notes", b'{"debtor_ref": "D-1001", "text": "a\\ud800b"}', "text"),
    ("CR LF in a dossier reference", "POST", "/api/v1/notes", {"debtor_ref": "D-1001\r\nX: y", "text": "x"},
     "debtor_ref"),
    ("JSON nested 100,000 deep", "POST", "/api/v1/notes", b"[" * 100_000 + b"]" * 100_000, "nested"),
    ("an unknown API address", "GET", "/api/v1/nothing-here", None, "API"),
    ("a method the address does not take", "DELETE", "/api/v1/notes", None, "POST"),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "names"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_clearly(name: str, method: str, path: str, body: Any, names: str,
                                            engine, db_url: str, tmp_path: Path, make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    headers = {**bearer(engine, "demo"), "Content-Type": "application/json"}
    raw = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    response = await client.request(method, path, data=raw, headers=headers)
    assert 400 <= response.status < 500, (response.status, await response.text())
    assert response.content_type == "application/json"
    error = (await response.json())["error"]
    assert names in error, error
    assert "<class" not in error and "Traceback" not in error
    with session_factory(engine)() as s:  # nothing written (the demo data holds one broken agreement)
        assert s.scalar(select(func.count()).select_from(Note)) == 0
        assert s.scalar(select(func.count()).select_from(WrapUpRecord)) == 0
        assert s.scalar(select(func.count()).select_from(Agreement).where(Agreement.status == "open")) == 0


@pytest.mark.parametrize("path", [f"/recordings/{HUGE}", f"/recordings/{HUGE}/audio", "/dossiers/D-1001%0D%0AX:%20y"])
async def test_pages_with_impossible_addresses_are_not_found(path: str, engine, db_url: str, tmp_path: Path,
                                                             make_client: MakeClient) -> None:
    from tests.webfixtures import login

    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    await login(client, "chef", "demo")
    response = await client.get(path, allow_redirects=False)
    assert response.status == 404, (response.status, await response.text())


async def test_a_valid_id_still_works_after_the_checks(engine, db_url: str, tmp_path: Path,
                                                       make_client: MakeClient) -> None:
    seeded(engine)
    call = CallLog(session_factory(engine)).open_attempt(
        number="+31201110001", caller_id="+31201234567", caller_id_withheld=False, at=datetime.now(UTC),
        agent="demo", debtor_ref="D-1001")
    client = await make_client(web_config(db_url, tmp_path))
    saved = await client.post("/api/v1/notes", json={**NOTE, "attempt_id": str(call)}, headers=bearer(engine, "demo"))
    assert saved.status == 201, await saved.text()
