"""The contact policy engine: calling window, frequency cap, cool-down, caller ID, combine()."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialer.policy.engine import (
    CALLING_WINDOW,
    COOLDOWN,
    DAYS,
    FREQUENCY_CAP,
    RULES,
    Contact,
    Decision,
    PolicyError,
    PolicyPack,
    Window,
    combine,
    decide,
    earliest_allowed,
)
from dialer.policy.packs import load_pack

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "config" / "policies"
AMS = ZoneInfo("Europe/Amsterdam")
NY = ZoneInfo("America/New_York")
NUMBER = "+31612345678"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A wall-clock time in `zone`, as the UTC instant the engine returns."""
    return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)


def call(at: datetime, **fields: object) -> Contact:
    return Contact(at=at, number=str(fields.pop("number", NUMBER)), **fields)  # type: ignore[arg-type]


def talk(at: datetime) -> Contact:
    return call(at, sip_code=200, answered=True, conversation=True)


def pack(name: str) -> PolicyPack:
    return load_pack(name, POLICIES)


def make(name: str, **sections: dict[str, object]) -> PolicyPack:
    """A pack from the same data a TOML file would hold."""
    return PolicyPack.model_validate({"name": name, **sections})


def always(**frequency: object) -> PolicyPack:
    """A pack whose window is (almost) always open, to test the ledger rules on their own."""
    return make("test", window={"days": list(DAYS), "start": "00:00", "end": "23:59"}, frequency=frequency)


def verdict(p: PolicyPack, now: datetime, ledger: list[Contact] | None = None, tz: ZoneInfo | str = AMS,
            number: str | None = None) -> Decision:
    return decide(p, tz=tz, ledger=ledger or [], now=now, number=number)


# --- calling window ---------------------------------------------------------------------------

def test_weekday_inside_hours_is_allowed_and_next_allowed_is_now() -> None:
    now = local(AMS, 2026, 3, 24, 10, 0)  # Tuesday
    decision = verdict(pack("nl-b2b"), now)
    assert decision == Decision(allowed=True, rules=(), next_allowed=now, withhold_allowed=True)
    assert decision.next_allowed is not None and decision.next_allowed.tzinfo == UTC


def test_start_is_inclusive() -> None:
    b2b = pack("nl-b2b")
    assert verdict(b2b, local(AMS, 2026, 3, 24, 8, 0)).allowed
    early = verdict(b2b, local(AMS, 2026, 3, 24, 7, 59, 59))
    assert (early.allowed, early.rules) == (False, (CALLING_WINDOW,))
    assert early.next_allowed == local(AMS, 2026, 3, 24, 8, 0) == utc(2026, 3, 24, 7, 0)


def test_end_is_exclusive() -> None:
    b2b = pack("nl-b2b")
    assert verdict(b2b, local(AMS, 2026, 3, 24, 17, 59, 59)).allowed
    late = verdict(b2b, local(AMS, 2026, 3, 24, 18, 0))
    assert late.rules == (CALLING_WINDOW,)
    assert late.next_allowed == local(AMS, 2026, 3, 25, 8, 0)


def test_friday_evening_moves_to_monday_morning() -> None:
    decision = verdict(pack("nl-b2b"), local(AMS, 2026, 3, 20, 18, 30))
    assert decision.rules == (CALLING_WINDOW,)
    assert decision.next_allowed == utc(2026, 3, 23, 7, 0)  # Monday 08:00 CET


@pytest.mark.parametrize("day", [28, 29])  # Saturday, Sunday
def test_weekend_is_closed_for_business_debtors(day: int) -> None:
    decision = verdict(pack("nl-b2b"), local(AMS, 2026, 3, day, 11, 0))
    assert decision.rules == (CALLING_WINDOW,)


def test_next_allowed_across_the_spring_dst_switch() -> None:
    # Clocks go forward on Sunday 29 March 2026: Monday 08:00 is CEST (UTC+2), not CET.
    decision = verdict(pack("nl-b2b"), utc(2026, 3, 28, 11, 0))
    assert decision.next_allowed == utc(2026, 3, 30, 6, 0)
    assert decision.next_allowed.astimezone(AMS).hour == 8  # type: ignore[union-attr]


def test_next_allowed_across_the_autumn_dst_switch() -> None:
    # Clocks go back on Sunday 25 October 2026: Monday 08:00 is CET (UTC+1) again.
    decision = verdict(pack("nl-b2b"), local(AMS, 2026, 10, 23, 19, 0))
    assert decision.next_allowed == utc(2026, 10, 26, 7, 0)


def test_kings_day_is_a_public_holiday() -> None:
    b2b = pack("nl-b2b")
    kings_day = verdict(b2b, local(AMS, 2026, 4, 27, 10, 0))  # Monday
    assert kings_day.rules == (CALLING_WINDOW,)
    assert kings_day.next_allowed == local(AMS, 2026, 4, 28, 8, 0) == utc(2026, 4, 28, 6, 0)
    no_holidays = b2b.model_copy(update={"window": b2b.window.model_copy(update={"holidays": ()})})
    assert verdict(no_holidays, local(AMS, 2026, 4, 27, 10, 0)).allowed


def test_christmas_and_the_weekend_after_it() -> None:
    # Friday 25 and Saturday 26 December 2026, then Sunday: Monday 28 December is the next business day.
    decision = verdict(pack("nl-b2b"), local(AMS, 2026, 12, 24, 18, 30))
    assert decision.next_allowed == utc(2026, 12, 28, 7, 0)


def test_debtor_in_new_york_with_a_dutch_team() -> None:
    b2b = pack("nl-b2b")
    # 10:00 in Amsterdam is 05:00 in New York (US summer time started 8 March 2026).
    morning = verdict(b2b, local(AMS, 2026, 3, 24, 10, 0), tz=NY)
    assert morning.rules == (CALLING_WINDOW,)
    assert morning.next_allowed == local(NY, 2026, 3, 24, 8, 0) == utc(2026, 3, 24, 12, 0)
    # 22:30 in Amsterdam is 17:30 in New York: still office hours there.
    assert verdict(b2b, utc(2026, 3, 24, 21, 30), tz="America/New_York").allowed


def test_zoneinfo_and_zone_name_give_the_same_decision() -> None:
    now = utc(2026, 3, 20, 19, 0)
    assert verdict(pack("nl-b2b"), now, tz=AMS) == verdict(pack("nl-b2b"), now, tz="Europe/Amsterdam")


def test_nl_wki_hours_sundays_and_saturdays() -> None:
    wki = pack("nl-wki")
    assert verdict(wki, local(AMS, 2026, 3, 28, 7, 0)).allowed  # Saturday 07:00
    assert verdict(wki, local(AMS, 2026, 3, 24, 19, 59)).allowed
    evening = verdict(wki, local(AMS, 2026, 3, 24, 20, 0))
    assert evening.rules == (CALLING_WINDOW,)
    assert evening.next_allowed == local(AMS, 2026, 3, 25, 7, 0)
    sunday = verdict(wki, local(AMS, 2026, 3, 29, 12, 0))
    assert sunday.next_allowed == local(AMS, 2026, 3, 30, 7, 0) == utc(2026, 3, 30, 5, 0)


def test_nl_wki_closes_liberation_day_every_year_and_bridging_days() -> None:
    wki = pack("nl-wki")
    # 5 May 2026 is a Tuesday and not a lustrum year: closed by the Algemene termijnenwet anyway.
    assert verdict(wki, local(AMS, 2026, 5, 5, 12, 0)).next_allowed == local(AMS, 2026, 5, 6, 7, 0)
    # Ascension Day Thursday 14 May 2026 and the bridging Friday 15 May: next is Saturday 07:00.
    assert verdict(wki, local(AMS, 2026, 5, 13, 20, 0)).next_allowed == local(AMS, 2026, 5, 16, 7, 0)


def test_us_regf_allows_weekends_and_ends_at_nine_pm() -> None:
    regf = pack("us-regf")
    assert verdict(regf, local(NY, 2026, 7, 4, 12, 0), tz=NY).allowed  # Saturday, Independence Day
    nine = verdict(regf, local(NY, 2026, 7, 5, 21, 0), tz=NY)
    assert nine.rules == (CALLING_WINDOW,)
    assert nine.next_allowed == local(NY, 2026, 7, 6, 8, 0)


# --- frequency cap ----------------------------------------------------------------------------

def test_frequency_cap_allows_up_to_max_calls_in_the_rolling_window() -> None:
    capped = always(max_calls=3, per_days=7)
    now = utc(2026, 3, 10, 12, 0)
    two = [call(utc(2026, 3, 4, 12, 0)), call(utc(2026, 3, 9, 9, 0))]
    assert verdict(capped, now, two).allowed
    three = [*two, call(utc(2026, 3, 10, 9, 0))]
    decision = verdict(capped, now, three)
    assert (decision.allowed, decision.rules) == (False, (FREQUENCY_CAP,))
    # Allowed again the moment the oldest call leaves the 7-day window.
    assert decision.next_allowed == utc(2026, 3, 11, 12, 0)
    assert verdict(capped, utc(2026, 3, 11, 11, 59, 59), three).rules == (FREQUENCY_CAP,)
    assert verdict(capped, utc(2026, 3, 11, 12, 0), three).allowed


def test_frequency_cap_waits_for_enough_calls_to_expire() -> None:
    capped = always(max_calls=2, per_days=1)
    ledger = [call(utc(2026, 3, 10, h, 0)) for h in (8, 9, 10, 11)]
    # Four calls, cap two: the third-newest must age out, i.e. the second-oldest (09:00) + 1 day.
    assert verdict(capped, utc(2026, 3, 10, 12, 0), ledger).next_allowed == utc(2026, 3, 11, 10, 0)


def test_calls_older_than_the_window_do_not_count() -> None:
    capped = always(max_calls=1, per_days=7)
    now = utc(2026, 3, 10, 12, 0)
    assert verdict(capped, now, [call(now - timedelta(days=7))]).allowed
    assert not verdict(capped, now, [call(now - timedelta(days=7) + timedelta(seconds=1))]).allowed


def test_no_cap_when_max_calls_is_zero() -> None:
    now = utc(2026, 3, 10, 12, 0)
    ledger = [call(now - timedelta(minutes=m)) for m in range(1, 100)]
    assert verdict(always(max_calls=0), now, ledger).allowed


def test_what_counts_towards_the_cap() -> None:
    now = utc(2026, 3, 10, 12, 0)
    ledger = [call(utc(2026, 3, 10, 9, 0), sip_code=486),  # busy
              call(utc(2026, 3, 10, 10, 0), sip_code=200, answered=True),  # voicemail or switchboard
              call(utc(2026, 3, 10, 11, 0), withheld=True, sip_code=480)]  # withheld calls still count
    assert not verdict(always(max_calls=3, counts="placed"), now, ledger).allowed
    assert verdict(always(max_calls=2, counts="connected"), now, ledger).allowed
    assert not verdict(always(max_calls=1, counts="connected"), now, ledger).allowed
    assert verdict(always(max_calls=1, counts="conversations"), now, ledger).allowed
    assert not verdict(always(max_calls=1, counts="conversations"), now, [*ledger, talk(now)]).allowed


def test_a_call_dated_after_now_counts_as_just_made() -> None:
    # Worker and coordinator clocks differ by a little: the ledger may be a moment ahead of `now`.
    now = utc(2026, 3, 10, 12, 0)
    decision = verdict(always(max_calls=1, per_days=1), now, [call(now + timedelta(seconds=2))])
    assert decision.rules == (FREQUENCY_CAP,)
    assert decision.next_allowed == now + timedelta(days=1, seconds=2)


def test_us_regf_seven_calls_in_seven_days() -> None:
    regf = pack("us-regf")
    ledger = [call(local(NY, 2026, 3, d, 10, 0), number="+12125550100") for d in range(2, 9)]  # Mon..Sun
    now = local(NY, 2026, 3, 8, 15, 0)
    assert verdict(regf, now, ledger[:6], tz=NY).allowed
    eighth = verdict(regf, now, ledger, tz=NY)
    assert eighth.rules == (FREQUENCY_CAP,)
    assert eighth.next_allowed == ledger[0].at + timedelta(days=7)


def test_cap_expiry_outside_the_window_moves_to_the_next_opening() -> None:
    regf = pack("us-regf")
    # The oldest call was 20:30 EST on Sunday 1 March; seven days later it is 21:30 EDT (summer time
    # began on 8 March), after the 21:00 close, so the next slot is Monday 08:00 EDT.
    oldest = call(local(NY, 2026, 3, 1, 20, 30))
    ledger = [oldest, *(call(utc(2026, 3, d, 14, 0)) for d in range(2, 8))]
    decision = verdict(regf, local(NY, 2026, 3, 8, 20, 0), ledger, tz=NY)
    assert decision.rules == (FREQUENCY_CAP,)
    assert decision.next_allowed == local(NY, 2026, 3, 9, 8, 0) == utc(2026, 3, 9, 12, 0)


# --- cool-down --------------------------------------------------------------------------------

def test_cooldown_after_a_conversation() -> None:
    regf = pack("us-regf")
    spoke = talk(local(NY, 2026, 3, 2, 11, 0))
    decision = verdict(regf, local(NY, 2026, 3, 5, 11, 0), [spoke], tz=NY)
    assert (decision.allowed, decision.rules) == (False, (COOLDOWN,))
    assert decision.next_allowed == spoke.at + timedelta(days=7)
    assert verdict(regf, spoke.at + timedelta(days=7), [spoke], tz=NY).allowed


def test_answered_without_conversation_starts_no_cooldown() -> None:
    answered = call(local(NY, 2026, 3, 2, 11, 0), sip_code=200, answered=True)
    assert verdict(pack("us-regf"), local(NY, 2026, 3, 3, 11, 0), [answered], tz=NY).allowed


def test_no_cooldown_when_the_pack_sets_none() -> None:
    now = local(AMS, 2026, 3, 24, 10, 0)
    assert verdict(pack("nl-b2b"), now, [talk(now - timedelta(minutes=5))]).allowed


def test_all_rules_deny_and_next_allowed_satisfies_them_at_once() -> None:
    p = make("strict", window={"start": "09:00", "end": "17:00", "holidays": "NL"},
             frequency={"max_calls": 2, "per_days": 3, "cooldown_after_conversation_days": 2})
    ledger = [call(local(AMS, 2026, 4, 22, 16, 0)), talk(local(AMS, 2026, 4, 24, 16, 30))]
    decision = verdict(p, local(AMS, 2026, 4, 24, 17, 30), ledger)  # Friday after hours
    assert decision.rules == RULES == (CALLING_WINDOW, FREQUENCY_CAP, COOLDOWN)
    # The cap clears Saturday 16:00 and the cool-down Sunday 16:30; Monday 27 April is King's Day,
    # so Tuesday 28 April 09:00 is the first moment every rule allows.
    assert decision.next_allowed == local(AMS, 2026, 4, 28, 9, 0)
    assert verdict(p, decision.next_allowed, ledger).allowed  # type: ignore[arg-type]


def test_next_allowed_is_the_earliest_compliant_moment_on_a_sweep() -> None:
    """Brute force: for many `now`s, nothing between now and next_allowed is allowed, and it is."""
    p = make("sweep", window={"start": "08:00", "end": "18:00", "holidays": "NL"},
             frequency={"max_calls": 2, "per_days": 2, "cooldown_after_conversation_days": 1})
    ledger = [call(local(AMS, 2026, 3, 26, 9, 0)), call(local(AMS, 2026, 3, 27, 17, 0)),
              talk(local(AMS, 2026, 3, 30, 12, 0)), call(local(AMS, 2026, 3, 31, 8, 0))]
    step = timedelta(minutes=53)
    now = utc(2026, 3, 26, 0, 0)
    while now < utc(2026, 4, 8, 0, 0):
        decision = verdict(p, now, ledger)
        when = decision.next_allowed
        assert when is not None and when >= now
        assert verdict(p, when, ledger).allowed
        probe = now
        while probe < when:
            assert not verdict(p, probe, ledger).allowed, (now, probe, when)
            probe += step
        assert decision.allowed == (when == now)
        now += step


# --- caller ID --------------------------------------------------------------------------------

def test_withholding_follows_the_pack() -> None:
    now = local(AMS, 2026, 3, 24, 10, 0)
    assert verdict(pack("nl-b2b"), now).withhold_allowed
    assert not verdict(pack("nl-wki"), now).withhold_allowed
    assert not verdict(pack("be"), now).withhold_allowed
    assert verdict(pack("us-regf"), now, tz=NY).withhold_allowed
    # The decision on caller ID holds whether or not the call is allowed now.
    assert verdict(pack("nl-b2b"), local(AMS, 2026, 3, 29, 10, 0)).withhold_allowed


def test_a_line_that_refused_an_anonymous_call_gets_our_number() -> None:
    now = local(AMS, 2026, 3, 24, 10, 0)
    refused = [call(now - timedelta(days=1), sip_code=433, withheld=True)]
    b2b = pack("nl-b2b")
    assert not verdict(b2b, now, refused, number=NUMBER).withhold_allowed
    assert verdict(b2b, now, refused, number="+31201111111").withhold_allowed
    assert not verdict(b2b, now, refused).withhold_allowed  # number unknown: assume the worst


# --- earliest_allowed -------------------------------------------------------------------------

def test_earliest_allowed_moves_an_appointment_to_a_compliant_slot() -> None:
    b2b = pack("nl-b2b")
    saturday = local(AMS, 2026, 3, 28, 10, 0)
    assert earliest_allowed(b2b, tz=AMS, ledger=[], not_before=saturday) == utc(2026, 3, 30, 6, 0)
    tuesday = local(AMS, 2026, 3, 31, 16, 30)
    assert earliest_allowed(b2b, tz="Europe/Amsterdam", ledger=[], not_before=tuesday) == tuesday


def test_earliest_allowed_honours_the_cooldown() -> None:
    spoke = talk(local(NY, 2026, 3, 16, 20, 45))
    # 20:45 seven days later is still inside the window (it closes at 21:00).
    assert earliest_allowed(pack("us-regf"), tz=NY, ledger=[spoke],
                            not_before=local(NY, 2026, 3, 17, 9, 0)) == local(NY, 2026, 3, 23, 20, 45)


# --- combine ----------------------------------------------------------------------------------

def test_combine_takes_the_stricter_of_each_rule() -> None:
    both = combine([pack("nl-wki"), pack("us-regf")])
    assert both.name == "nl-wki+us-regf"
    assert both.window.days == ("mon", "tue", "wed", "thu", "fri", "sat")
    assert (both.window.start.hour, both.window.end.hour) == (8, 20)
    assert both.window.holidays == ("NL",)
    assert "05-05" in both.window.closed
    assert (both.frequency.max_calls, both.frequency.per_days) == (7, 7)
    assert both.frequency.cooldown_after_conversation_days == 7
    assert both.caller_id.withhold == "forbidden"
    assert not both.withhold_allowed


def test_combine_unions_holiday_countries() -> None:
    both = combine([pack("nl-b2b"), pack("be")])
    assert both.window.holidays == ("NL", "BE")
    assert both.window.days == ("mon", "tue", "wed", "thu", "fri")
    # 21 July is the Belgian national day (a Tuesday in 2026), a working day in the Netherlands.
    assert verdict(pack("nl-b2b"), local(AMS, 2026, 7, 21, 10, 0)).allowed
    assert verdict(both, local(AMS, 2026, 7, 21, 10, 0)).rules == (CALLING_WINDOW,)


def test_combine_caps_smallest_cap_over_longest_span() -> None:
    a = always(max_calls=3, per_days=1, counts="conversations")
    b = always(max_calls=7, per_days=7, counts="placed")
    c = always(max_calls=0, per_days=30, cooldown_after_conversation_days=2)
    merged = combine([a, b, c]).frequency
    assert (merged.max_calls, merged.per_days, merged.counts) == (3, 7, "placed")
    assert merged.cooldown_after_conversation_days == 2
    assert combine([pack("us-regf"), pack("us-ma")]).frequency.max_calls == 2


def test_combine_of_one_pack_is_that_pack_and_duplicates_collapse() -> None:
    b2b = pack("nl-b2b")
    assert combine([b2b]) is b2b
    assert combine([b2b, b2b]) is b2b
    with pytest.raises(ValueError):
        combine([])


def test_windows_that_never_meet_never_allow_a_call() -> None:
    mornings = PolicyPack(name="mornings", window=Window(start=time(8), end=time(12)))
    evenings = make("evenings", window={"start": "13:00", "end": "20:00"})
    never = combine([mornings, evenings])
    decision = verdict(never, local(AMS, 2026, 3, 24, 10, 0))
    assert (decision.allowed, decision.rules, decision.next_allowed) == (False, (CALLING_WINDOW,), None)
    with pytest.raises(PolicyError, match="never"):
        earliest_allowed(never, tz=AMS, ledger=[], not_before=utc(2026, 3, 24))
    weekends = make("weekends", window={"days": ["sat", "sun"]})
    assert verdict(combine([mornings, weekends]), utc(2026, 3, 24)).next_allowed is None


# --- input checks -----------------------------------------------------------------------------

def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verdict(pack("nl-b2b"), datetime(2026, 3, 24, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        Contact(at=datetime(2026, 3, 24, 10, 0), number=NUMBER)


def test_unknown_time_zone_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="Mars/Olympus"):
        verdict(pack("nl-b2b"), utc(2026, 3, 24, 10, 0), tz="Mars/Olympus")


def test_contact_defaults_and_decision_fields() -> None:
    contact = Contact(at=utc(2026, 3, 24, 10, 0), number=NUMBER)
    assert (contact.sip_code, contact.answered, contact.conversation, contact.withheld) == (None, False, False, False)
    decision = verdict(pack("nl-b2b"), utc(2026, 3, 28, 10, 0))
    assert isinstance(decision.rules, tuple)
