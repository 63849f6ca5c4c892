"""Policy packs: the shipped TOML files, strict loading with one-line errors, and choosing a pack."""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path

import pytest

from dialer.policy import engine as policy
from dialer.policy.packs import PolicyError, load_pack, pack_for

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "config" / "policies"
SHIPPED = ("nl-b2b", "nl-wki", "be", "us-regf", "us-ma")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

GOOD = """\
name = "team"
[window]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "18:00"
holidays = "NL"
[frequency]
max_calls = 0
per_days = 7
cooldown_after_conversation_days = 0
[caller_id]
withhold = "allowed"
"""


def write(tmp_path: Path, text: str, name: str = "team.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_pack(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


# --- the shipped packs ------------------------------------------------------------------------

@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_pack_loads_with_its_name_sources_and_effective_date(name: str) -> None:
    pack = load_pack(name, POLICIES)
    assert pack.name == name
    assert pack.sources and isinstance(pack.effective, date)
    assert pack.window.opens
    text = (POLICIES / f"{name}.toml").read_text(encoding="utf-8")
    assert "# Effective:" in text and "# Sources:" in text


def test_nl_b2b_is_office_hours_on_business_days() -> None:
    pack = load_pack("nl-b2b", POLICIES)
    assert pack.window.days == WEEKDAYS
    assert (pack.window.start, pack.window.end) == (time(8), time(18))
    assert pack.window.holidays == ("NL",)
    assert pack.frequency.max_calls == 0
    assert pack.frequency.cooldown_after_conversation_days == 0
    assert pack.caller_id.withhold == "allowed" and pack.withhold_allowed


def test_nl_wki_is_not_at_night_on_sundays_or_public_holidays() -> None:
    pack = load_pack("nl-wki", POLICIES)
    assert pack.effective == date(2024, 4, 1)
    assert pack.window.days == ("mon", "tue", "wed", "thu", "fri", "sat")
    assert (pack.window.start, pack.window.end) == (time(7), time(20))
    assert pack.window.holidays == ("NL",)
    assert "05-05" in pack.window.closed
    assert pack.caller_id.withhold == "forbidden"


def test_be_is_eight_to_eight_without_withholding() -> None:
    pack = load_pack("be", POLICIES)
    assert (pack.window.start, pack.window.end) == (time(8), time(20))
    assert pack.window.holidays == ("BE",)
    assert pack.effective == date(2023, 9, 1)
    assert not pack.withhold_allowed


def test_us_regf_is_regulation_f() -> None:
    pack = load_pack("us-regf", POLICIES)
    assert pack.effective == date(2021, 11, 30)
    assert pack.window.days == EVERY_DAY
    assert (pack.window.start, pack.window.end) == (time(8), time(21))
    assert pack.window.holidays == ()
    assert (pack.frequency.max_calls, pack.frequency.per_days) == (7, 7)
    assert pack.frequency.cooldown_after_conversation_days == 7
    assert pack.frequency.counts == "placed"
    assert pack.withhold_allowed


def test_us_ma_is_regulation_f_with_two_calls_a_week() -> None:
    pack = load_pack("us-ma", POLICIES)
    regf = load_pack("us-regf", POLICIES)
    assert pack.window == regf.window
    assert (pack.frequency.max_calls, pack.frequency.per_days) == (2, 7)
    assert pack.frequency.cooldown_after_conversation_days == 7


# --- loading ----------------------------------------------------------------------------------

def test_load_by_name_by_path_and_by_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    by_name = load_pack("team", tmp_path)
    assert by_name.name == "team"
    assert load_pack(path) == by_name
    assert load_pack(str(path)) == by_name
    assert by_name.window.start == time(8) and by_name.window.holidays == ("NL",)


def test_defaults_for_optional_keys_and_name_from_the_file(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, "", "bare.toml"))
    assert pack.name == "bare"
    assert pack.window.days == WEEKDAYS
    assert (pack.window.start, pack.window.end, pack.window.holidays) == (time(8), time(18), ())
    assert (pack.frequency.max_calls, pack.frequency.counts) == (0, "placed")
    assert pack.caller_id.withhold == "forbidden"  # present the number unless a pack says otherwise
    assert pack.recording.announce and pack.effective is None


def test_optional_keys_are_read(tmp_path: Path) -> None:
    text = GOOD.replace('name = "team"', 'name = "team"\neffective = 2025-01-01\nsources = ["a", "b"]')
    text += '[recording]\nannounce = false\nretention_days = 90\n'
    text = text.replace('holidays = "NL"', 'holidays = ["NL", "be"]\nclosed = ["12-31", 2025-05-30]')
    text = text.replace("per_days = 7", 'per_days = 7\ncounts = "connected"')
    pack = load_pack(write(tmp_path, text))
    assert pack.effective == date(2025, 1, 1) and pack.sources == ("a", "b")
    assert pack.window.holidays == ("NL", "BE")
    assert pack.window.closed == ("12-31", "2025-05-30")
    assert pack.frequency.counts == "connected"
    assert (pack.recording.announce, pack.recording.retention_days) == (False, 90)


def test_packs_are_cached_per_path_until_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    first = load_pack(path)
    assert load_pack(path) is first
    assert load_pack("team", tmp_path) is first
    path.write_text(GOOD.replace('"18:00"', '"17:30"'), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_pack(path).window.end == time(17, 30)


def test_missing_pack_by_name_lists_the_available_ones(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    with pytest.raises(PolicyError) as caught:
        load_pack("nl-b2c", tmp_path)
    message = str(caught.value)
    assert "nl-b2c" in message and str(tmp_path / "nl-b2c.toml") in message
    assert "available: team" in message and "\n" not in message


def test_missing_pack_by_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_pack(tmp_path / "nowhere.toml")
    with pytest.raises(PolicyError, match="pack name"):
        load_pack("")


def test_policy_error_is_a_value_error_shared_with_the_engine() -> None:
    assert issubclass(PolicyError, ValueError)
    assert PolicyError is policy.PolicyError


@pytest.mark.parametrize(("text", "expected"), [
    ('name = "x"\n[window\n', "not valid TOML"),
    ('name = "x"\ncolour = "red"\n', "colour: unknown key"),
    ('[windw]\nstart = "08:00"\n', "[windw]: unknown section"),
    ('[window]\nstrat = "08:00"\n', "[window] strat: unknown key"),
    ('[frequency]\nmax_call = 3\n', "[frequency] max_call: unknown key"),
    ('[window]\nstart = "25:00"\n', "[window] start: '25:00' is not a time of day HH:MM"),
    ('[window]\nend = "8am"\n', "[window] end: '8am' is not a time of day"),
    ('[window]\ndays = ["mon", "mo"]\n', "[window] days: 'mo' is not a day"),
    ('[window]\ndays = "weekdays"\n', "[window] days: 'weekdays' is not a day"),
    ('[window]\nholidays = "XX"\n', "[window] holidays: 'XX' is not a country"),
    ('[window]\nholidays = "NLD"\n', "[window] holidays: 'NLD' is not a country"),
    ('[window]\nclosed = ["13-40"]\n', "[window] closed: '13-40' is not a day"),
    ('[window]\nstart = "18:00"\nend = "08:00"\n', "[window] end: 08:00 is not after start 18:00"),
    ('[window]\nstart = "08:00"\nend = "08:00"\n', "is not after start"),
    ('[window]\ndays = []\n', "[window] days: empty"),
    ('[frequency]\nmax_calls = -1\n', "[frequency] max_calls: Input should be greater than or equal to 0"),
    ('[frequency]\nmax_calls = "7"\n', "[frequency] max_calls"),
    ('[frequency]\nper_days = 0\n', "[frequency] per_days"),
    ('[frequency]\ncounts = "answered"\n', "[frequency] counts"),
    ('[caller_id]\nwithhold = "sometimes"\n', "[caller_id] withhold"),
    ('name = ""\n', "name:"),
    ('effective = "soon"\n', "effective:"),
])
def test_bad_pack_files_give_one_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_for(tmp_path, text)


def test_several_problems_are_reported_on_one_line(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[window]\nstart = "25:00"\nstrat = "x"\n')
    assert "[window] start" in message and "[window] strat: unknown key" in message


# --- choosing a pack --------------------------------------------------------------------------

def choose(country: str | None, kind: str = "company", region: str | None = None,
           number_region: str | None = None, team_default: str = "nl-b2b") -> str:
    return pack_for(country=country, region=region, kind=kind, number_region=number_region,
                    team_default=team_default, directory=POLICIES).name


def test_pack_by_debtor_country_and_kind() -> None:
    assert choose("NL", "person") == "nl-wki"
    assert choose("NL", "company") == "nl-b2b"
    assert choose("BE", "person") == "be"
    assert choose("US", "person") == "us-regf"
    assert choose("US", "person", region="US-MA") == "us-ma"
    assert choose("US", "person", region="ma") == "us-ma"
    assert choose("US", "person", region="US-NY") == "us-regf"
    assert choose("nl", "person") == "nl-wki"


def test_other_countries_get_the_team_default() -> None:
    assert choose("DE") == "nl-b2b"
    assert choose(None) == "nl-b2b"
    assert choose("FR", team_default="be") == "be"


def test_same_number_region_changes_nothing() -> None:
    assert choose("NL", "person", number_region="NL") == "nl-wki"
    assert choose("NL", "company", number_region="nl") == "nl-b2b"


def test_a_foreign_number_combines_both_packs() -> None:
    mixed = pack_for(country="NL", region=None, kind="company", number_region="BE",
                     team_default="nl-b2b", directory=POLICIES)
    assert mixed.name == "nl-b2b+be"
    assert mixed.window.holidays == ("NL", "BE")
    assert not mixed.withhold_allowed
    wki_us = pack_for(country="NL", region=None, kind="person", number_region="US",
                      team_default="nl-b2b", directory=POLICIES)
    assert wki_us.name == "nl-wki+us-regf"
    assert (wki_us.window.start, wki_us.window.end) == (time(8), time(20))
    assert wki_us.frequency.max_calls == 7


def test_unknown_address_with_a_known_number_region() -> None:
    assert choose(None, "person", number_region="NL") == "nl-b2b+nl-wki"
    assert choose("DE", "company", number_region="DE") == "nl-b2b"
    assert choose("DE", "company", number_region="NL") == "nl-b2b"  # both sides give nl-b2b


def test_team_default_may_be_a_path(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert pack_for(country="FR", region=None, kind="company", number_region=None,
                    team_default=str(path), directory=POLICIES).name == "team"


def test_a_dutch_company_gets_the_teams_own_pack_but_a_dutch_person_keeps_the_wki(tmp_path: Path) -> None:
    team = str(write(tmp_path, GOOD))
    assert choose("NL", "company", team_default=team) == "team"
    assert choose("NL", "person", team_default=team) == "nl-wki"
    assert choose("NL", "company", number_region="BE", team_default=team) == "team+be"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(PolicyError, match="kind"):
        choose("NL", "consumer")
