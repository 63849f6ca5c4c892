"""The fast page path renders exactly what the plain one did: dict lookups, dates, static URLs, and the agent
screen's reads."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from aiohttp import web
from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.engine import Engine

from dialer.dossiers.callbacks import Callback
from dialer.dossiers.dossier import UnknownDebtor, build_dossier
from dialer.dossiers.dossiersql import dossier_params
from dialer.dossiers.parties import Debtor
from dialer.dossiers.screensql import finish_screen
from dialer.dossiers.tasks import Task
from dialer.dossiers.worklists import agenda
from dialer.storage.database import make_engine, session_factory, upgrade
from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, login, seeded, web_config
from web import i18n, render
from web.readpool import ReadPool
from web.screenreads import SCREEN


def test_dict_keys_named_like_dict_methods_still_resolve_to_the_method() -> None:
    env = render.PageEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
    data = {"name": "Bakkerij", "items": "the key", "nested": {"x": 1}}
    assert env.from_string("{{ d.name }} {{ d.nested.x }} {{ d.items()|list|length }}").render(d=data) == "Bakkerij 1 3"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.missing }}").render(d=data)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_moments_are_formatted_as_babel_does(language: str) -> None:
    token = i18n.current_language.set(language)
    try:
        start = datetime(2026, 3, 28, 23, 59, 59, 999999, tzinfo=UTC)  # across the spring DST change
        for step in range(0, 72 * 3600, 1234):
            moment = start + timedelta(seconds=step)
            for value in (moment, moment.isoformat(), moment.replace(tzinfo=None)):
                for zone in ("Europe/Amsterdam", "America/New_York", None):
                    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
                    expected = format_datetime(parsed, format="short", tzinfo=ZoneInfo(zone) if zone else None,
                                               locale=i18n.locale())
                    assert i18n.moment(value, zone) == expected
    finally:
        i18n.current_language.reset(token)


def test_static_urls_are_versioned_as_aiohttp_does_and_follow_a_changed_file(tmp_path: Path) -> None:
    app = web.Application()
    (tmp_path / "app.css").write_text("body { color: red }")
    app.router.add_static("/static/", tmp_path, name="static", append_version=True)
    urls = render.StaticUrls(app)

    def aiohttp_url(name: str) -> str:
        return str(app.router["static"].url_for(filename=name))

    first = urls("app.css")
    assert first == aiohttp_url("app.css") and "?v=" in first
    (tmp_path / "app.css").write_text("body { color: blue; }")
    os.utime(tmp_path / "app.css", ns=(1, 1))  # a different stamp whatever the clock's resolution
    assert urls("app.css") == aiohttp_url("app.css") != first
    assert urls("missing.css") == aiohttp_url("missing.css")


async def test_the_screens_one_statement_equals_build_dossier_and_worklists_agenda(postgres_server: str) -> None:
    # PostgreSQL only: on SQLite the screen reads through build_dossier and worklists.agenda themselves.
    engine = make_engine(postgres_server)
    upgrade(engine)
    seeded(engine)
    now = datetime(2026, 11, 23, 9, 30, 15, 250000, tzinfo=UTC)
    with session_factory(engine).begin() as session:
        debtor = session.scalars(select(Debtor).order_by(Debtor.id)).first()
        assert debtor is not None
        debtor_id, ref = debtor.id, debtor.ref
        for hours, status in ((5, "pending"), (1, "claimed"), (3, "done"), (2, "pending"), (2, "pending")):
            session.add(Callback(debtor_id=debtor_id, kind="appointment", due_at=now + timedelta(hours=hours),
                                 agent="demo", note=f"{status} at +{hours} h", status=status, created_at=now))
        session.add(Task(kind="written_reminder", status="open", debtor_id=debtor_id, role="supervisor",
                         title="Send a reminder", detail="twice", created_at=now, created_by="demo"))
        session.add(Task(kind="check_payment", status="done", debtor_id=debtor_id, title="Done", created_at=now))
    with session_factory(engine)() as session:
        expected = agenda(session, debtor_id), build_dossier(session, ref, now.date())
    pool = ReadPool(engine)
    await pool.open()
    try:
        found = finish_screen(await pool.value(SCREEN.sql, SCREEN.args(dossier_params(ref, now.date()))), ref)
        with pytest.raises(UnknownDebtor):
            finish_screen(await pool.value(SCREEN.sql, SCREEN.args(dossier_params("NO-SUCH-REF", now.date()))),
                          "NO-SUCH-REF")
    finally:
        await pool.close()
        engine.dispose()
    assert (found[1], json.loads(json.dumps(found[0]))) == (expected[0], json.loads(json.dumps(expected[1])))
    assert len(expected[0]["callbacks"]) == 4 and len(expected[0]["tasks"]) == 1


def _without_clock(html: str) -> str:
    return re.sub(r'min="\d{4}-\d\d-\d\dT\d\d:\d\d"', 'min=""', html)  # the call-back picker's "now"


@pytest.mark.parametrize("team", ["", 'country = "GB"\ntimezone = "Europe/London"'])
async def test_every_page_renders_as_with_the_plain_environment(engine: Engine, db_url: str, tmp_path: Path,
                                                                make_client: MakeClient, team: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path, team=team))
    await login(client, "chef", "demo")
    paths = ["/dossiers", "/dossiers?q=bakkerij", "/outbox", "/tasks", "/session", "/recordings"]
    paths += [f"/dossiers/D-100{n}" for n in range(1, 6)]
    fast = {path: await (await client.get(path)).text() for path in paths}
    monkeypatch.setattr(render.PageEnvironment, "getattr", jinja2.Environment.getattr)  # Jinja's own lookup
    for path in paths:
        response = await client.get(path)
        assert response.status == 200, path
        assert _without_clock(fast[path]) == _without_clock(await response.text()), path
    login_page = await client.get("/login")
    assert login_page.status == 200
