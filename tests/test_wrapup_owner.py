"""Only the call's agent or a supervisor wraps up a call or notes on it; another agent is refused, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dialer.calllog.journal import CallLog
from dialer.dossiers.casework import Note
from dialer.dossiers.wrapups import WrapUpRecord
from dialer.storage.database import session_factory
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, bearer, seeded, web_config


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_another_agents_call_is_refused_a_supervisor_may(engine: Engine, db_url: str, tmp_path: Path,
                                                               make_client: MakeClient) -> None:
    seeded(engine)  # demo (agent) and chef (supervisor)
    add_account(engine, "bert", "agent")
    call = CallLog(session_factory(engine)).open_attempt(
        number="+31201110001", caller_id="+31201234567", caller_id_withheld=False, at=datetime.now(UTC),
        agent="demo", debtor_ref="D-1001")
    client = await make_client(web_config(db_url, tmp_path))
    wrap = {"debtor_ref": "D-1001", "attempt_id": call, "outcome": "no_contact"}
    note = {"debtor_ref": "D-1001", "attempt_id": call, "text": "zelf gebeld"}
    for path, body in (("/api/v1/wrapups", wrap), ("/api/v1/notes", note)):
        refused = await client.post(path, json=body, headers=bearer(engine, "bert"))
        assert refused.status == 403, await refused.text()
        answer = await refused.json()
        assert answer["reason"] == "not_your_call" and "demo" in answer["error"]
    assert (count(engine, WrapUpRecord), count(engine, Note)) == (0, 0)
    assert (await client.post("/api/v1/notes", json=note, headers=bearer(engine, "chef"))).status == 201
    assert (await client.post("/api/v1/wrapups", json=wrap, headers=bearer(engine, "chef"))).status == 201
    assert (await client.post("/api/v1/wrapups", json=wrap, headers=bearer(engine, "demo"))).status == 201
    assert count(engine, WrapUpRecord) == 2
