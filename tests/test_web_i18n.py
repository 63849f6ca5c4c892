"""Dutch and English: complete catalogs, the team's default, the user's own language, and the switch."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.webfixtures import *  # noqa: F401,F403
from tests.webfixtures import MakeClient, add_account, login, seeded, web_config
from web.catalogs import missing


def test_every_message_has_a_dutch_translation_and_an_english_entry() -> None:
    assert missing("nl") == []
    assert missing("en") == []


async def test_a_dutch_team_sees_dutch_with_the_domains_words(engine: Engine, db_url: str, tmp_path: Path,
                                                              make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))  # [team] country defaults to NL
    assert "Wachtwoord" in await (await client.get("/login")).text()
    await login(client, "demo", "demo")
    page = await (await client.get("/dossiers/D-1003")).text()
    assert '<html lang="nl">' in page
    for word in ("Betalingsafspraak", "Terugbelafspraak", "Lopende klachten", "Onderhandelingsruimte",
                 "Tegenwerpingen", "Belgids", "Uit handen geven aan een incassobureau", "Schriftelijke aanmaning"):
        assert word in page, word


async def test_a_team_outside_nl_and_be_sees_english(engine: Engine, db_url: str, tmp_path: Path,
                                                     make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path, team='country = "GB"\ntimezone = "Europe/London"'))
    await login(client, "demo", "demo")
    page = await (await client.get("/dossiers/D-1004")).text()
    assert '<html lang="en">' in page
    for words in ("Payment agreement", "Call-back appointment", "Open complaints", "Negotiation room", "Call guide",
                  "We never received the invoice!"):
        assert words in page, words


async def test_the_users_language_overrides_and_the_switch_remembers_it(engine: Engine, db_url: str,
                                                                        tmp_path: Path,
                                                                        make_client: MakeClient) -> None:
    seeded(engine)
    add_account(engine, "emma", "agent", language="en")
    client = await make_client(web_config(db_url, tmp_path))
    await login(client, "emma")
    assert '<html lang="en">' in await (await client.get("/dossiers")).text()
    other = await make_client(web_config(db_url, tmp_path))
    csrf = await login(other, "demo", "demo")
    assert '<html lang="nl">' in await (await other.get("/dossiers")).text()
    switched = await other.post("/language", data={"language": "en", "csrf_token": csrf, "next": "/dossiers"},
                                allow_redirects=False)
    assert switched.status == 303 and switched.headers["Location"] == "/dossiers"
    assert '<html lang="en">' in await (await other.get("/dossiers")).text()
    again = await make_client(web_config(db_url, tmp_path))
    await login(again, "demo", "demo")  # a new session: the choice was stored for the user
    assert '<html lang="en">' in await (await again.get("/dossiers")).text()


def test_amounts_are_written_exactly_as_babel_writes_them() -> None:
    from decimal import Decimal

    from babel.numbers import format_currency

    from web import i18n

    for language, where in i18n.LOCALES.items():
        token = i18n.current_language.set(language)
        try:
            for value in ("0.00", "5.00", "-0.05", "1815.00", "-1234567.89", "12.5", "999999999.99"):
                for currency in ("EUR", "USD", "GBP"):
                    assert i18n.money(value, currency) == format_currency(Decimal(value), currency, locale=where)
        finally:
            i18n.current_language.reset(token)


def _script_data(page: str, element: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', page, re.S)
    assert found, element
    return json.loads(found.group(1))


async def test_the_panel_script_gets_its_texts_in_the_pages_language(engine: Engine, db_url: str, tmp_path: Path,
                                                                    make_client: MakeClient) -> None:
    seeded(engine)
    client = await make_client(web_config(db_url, tmp_path))
    csrf = await login(client, "demo", "demo")
    dutch = await (await client.get("/dossiers/D-1003")).text()
    await client.post("/language", data={"language": "en", "csrf_token": csrf, "next": "/dossiers"},
                      allow_redirects=False)
    english = await (await client.get("/dossiers/D-1004")).text()
    setup_nl, setup_en = _script_data(dutch, "panel-setup"), _script_data(english, "panel-setup")
    assert (setup_nl["messages"]["answered"], setup_en["messages"]["answered"]) == ("Verbonden", "Connected")
    assert setup_nl["room"] == setup_en["room"] and setup_nl["room"]["min_first_payment_pct"]
    assert setup_nl["timezone"] == "Europe/Amsterdam"
    assert (_script_data(dutch, "panel-data")["debtor_ref"], _script_data(english, "panel-data")["debtor_ref"]) \
        == ("D-1003", "D-1004")
