"""The agents' iCalendar feed: RFC 5545 structure, folding at 75 octets, escaping, and the token."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from dialer.scheduling.ics import (
    FeedItem,
    agent_calendar,
    agent_for_feed_token,
    calendar,
    escape,
    feed_secret,
    feed_token,
    fold,
)
from tests.test_scheduler import T0, add_callback, add_debtor, make_cfg

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    """Content lines as a client reads them (RFC 5545 §3.1)."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            out.append({"n": "\n", "N": "\n"}.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def events(text: str) -> list[dict[str, str]]:
    """Each VEVENT's properties (name → raw value; the alarm's are left out)."""
    found, current, depth = [], None, 0
    for line in unfold(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif line == "BEGIN:VALARM":
            depth += 1
        elif line == "END:VALARM":
            depth -= 1
        elif current is not None and depth == 0:
            current[name] = value
    return found


def test_fold_keeps_every_physical_line_within_75_octets_and_never_splits_a_character() -> None:
    line = "DESCRIPTION:" + "één groot café, " * 20
    folded = fold(line)
    physical = folded.split("\r\n")
    assert len(physical) > 1
    assert all(len(p.encode("utf-8")) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert folded.replace("\r\n ", "") == line
    assert fold("SUMMARY:short") == "SUMMARY:short"
    exactly = "X" * 75
    assert fold(exactly) == exactly and fold(exactly + "Y") == exactly + "\r\n Y"


def test_text_values_escape_backslash_semicolon_comma_and_line_breaks() -> None:
    assert escape("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert unescape(escape("F-1, F-2; paid\\not\nsure")) == "F-1, F-2; paid\\not\nsure"


def test_a_calendar_has_one_event_per_appointment_in_utc_with_uid_stamp_and_alarm() -> None:
    note = "Bel terug over F-1, F-2; zegt: \"betaald\\overgemaakt\"\nvraag naar Piet " + "lang " * 30
    items = [FeedItem(12, datetime(2026, 3, 2, 16, 30, tzinfo=UTC), "D-1", "Bakkerij Jansen; Zn, B.V.", note,
                      ("Piet Jansen (owner): +31612345678", "Kees (bookkeeper): +31201234567")),
             FeedItem(13, datetime(2026, 3, 3, 8, 0, tzinfo=UTC), "D-2", "Café 't Hoekje", None, (), cancelled=True)]
    text = calendar("anna", items, now=NOW, domain="example.test", remind_minutes=5)
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    lines = unfold(text)
    assert lines[:4] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Belblok//Call-back appointments//EN",
                         "CALSCALE:GREGORIAN"]
    assert lines[-1] == "END:VCALENDAR"
    first, second = events(text)
    assert first["UID"] == "callback-12@example.test" and second["UID"] == "callback-13@example.test"
    assert first["DTSTAMP"] == "20260302T090000Z"
    assert first["DTSTART"] == "20260302T163000Z" and second["DTSTART"] == "20260303T080000Z"
    assert unescape(first["SUMMARY"]) == "Terugbelafspraak: Bakkerij Jansen; Zn, B.V. (D-1)"
    description = unescape(first["DESCRIPTION"])
    assert note in description
    assert "Bellen: Piet Jansen (owner): +31612345678" in description and "+31201234567" in description
    assert (first["STATUS"], second["STATUS"]) == ("CONFIRMED", "CANCELLED")
    assert "TRIGGER:-PT5M" in lines and lines.count("BEGIN:VALARM") == 1  # no alarm for a cancelled one
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2


def test_an_empty_calendar_is_still_valid() -> None:
    assert unfold(calendar("anna", [], now=NOW, language="en")) == [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Belblok//Call-back appointments//EN", "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Belblok – anna", "END:VCALENDAR"]


def test_a_feed_token_names_its_agent_and_only_this_secret_makes_it() -> None:
    token = feed_token("s3cret", "anna")
    assert agent_for_feed_token("s3cret", token) == "anna"
    assert agent_for_feed_token(b"s3cret", token) == "anna"
    assert agent_for_feed_token("another secret", token) is None
    assert feed_token("s3cret", "bram") != token
    forged = feed_token("s3cret", "bram").split(".")[0] + "." + token.split(".")[1]
    assert agent_for_feed_token("s3cret", forged) is None
    for junk in ("", ".", "anna", "YW5uYQ.", "!!!.???", token + "x"):
        assert agent_for_feed_token("s3cret", junk) is None
    assert all(c.isalnum() or c in "-_." for c in token)  # safe in a URL as it is


def test_the_feed_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "calendar-feed.key"
    secret = feed_secret(path)
    assert len(secret) == 32 and feed_secret(path) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_agents_feed_holds_their_appointments_only(sessions: sessionmaker[Session]) -> None:
    debtor = add_debtor(sessions, name="Bakkerij Jansen B.V.")
    mine = add_callback(sessions, debtor, "appointment", T0 + timedelta(hours=6), note="over F-1, F-2")
    add_callback(sessions, debtor, "appointment", T0 + timedelta(hours=7), agent="bram")
    add_callback(sessions, debtor, "return", T0 + timedelta(hours=1))
    old = add_callback(sessions, debtor, "appointment", T0 - timedelta(days=40))
    cancelled = add_callback(sessions, debtor, "appointment", T0 + timedelta(days=1), status="cancelled")
    with sessions() as session:
        text = agent_calendar(session, "anna", make_cfg(remind=5), now=T0)
    found = events(text)
    assert [e["UID"] for e in found] == [f"callback-{mine}@belblok", f"callback-{cancelled}@belblok"]
    assert f"callback-{old}@belblok" not in text
    assert found[0]["DTSTART"] == "20260302T150000Z"
    assert "Piet Jansen (owner): +31612345678" in unescape(found[0]["DESCRIPTION"])
    assert "over F-1, F-2" in unescape(found[0]["DESCRIPTION"])
    assert found[1]["STATUS"] == "CANCELLED"
