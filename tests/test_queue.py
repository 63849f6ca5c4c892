"""The queue's pure core: order, kinds, every exclusion rule, number choice, caller ID — on a fixed clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from dialer.policy.engine import DAYS, CallerId, Frequency, PolicyPack, Window
from dialer.queue.facts import (
    CallbackFact,
    Claim,
    ContactFact,
    DossierFacts,
    InvoiceFact,
    PhoneFact,
    PromiseFact,
    QueueRules,
)
from dialer.queue.order import Entry, Exclusion, build, evaluate
from dialer.queue.retry import Dialled
from dialer.settings.config import parse

AMS = "Europe/Amsterdam"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday, 10:00 in Amsterdam
TODAY = date(2026, 11, 24)
CFG = parse('[sip]\ntrunk = "127.0.0.1:5060"\ncaller_id = "+31201234567"\n')
RULES = QueueRules(agent="anna", team_tz=AMS, min_amount=Decimal("25.00"), retry_rule=CFG.retry_rule,
                   withhold_after=2, grace=timedelta(minutes=10))
ALWAYS = PolicyPack(name="always", window=Window(days=DAYS, start=time(0), end=time(23, 59)),
                    caller_id=CallerId(withhold="allowed"))
OFFICE = PolicyPack(name="office", window=Window(days=DAYS[:5], start=time(8), end=time(18), holidays=("NL",)),
                    caller_id=CallerId(withhold="allowed"))
_ids = itertools.count(1)


def phone(number: str, kind: str = "direct", refuses_anonymous: bool = False) -> PhoneFact:
    return PhoneFact(next(_ids), number, kind, refuses_anonymous)


def person(name: str, role: str, *phones: PhoneFact) -> ContactFact:
    return ContactFact(next(_ids), name, role, phones)


def number_of(ref: str) -> str:
    return "+3161" + str(sum(map(ord, ref)) * 7919 % 10_000_000).zfill(7)


def dossier(ref: str, *, amount: str | None = "500.00", days: int = 30,
            contacts: tuple[ContactFact, ...] | None = None, pack: PolicyPack = ALWAYS,
            invoices: tuple[InvoiceFact, ...] | None = None, **fields: object) -> DossierFacts:
    people = contacts if contacts is not None else (person("Piet", "credit_manager", phone(number_of(ref))),)
    if invoices is None:
        invoices = (InvoiceFact(next(_ids), TODAY - timedelta(days=days), Decimal(amount)),) if amount else ()
    packs = {"": pack, **{p.number: pack for c in people for p in c.phones}}
    return DossierFacts(id=next(_ids), ref=ref, name=f"Debtor {ref}", tz=str(fields.pop("tz", AMS)),
                        invoices=invoices, contacts=people, packs=packs, **fields)  # type: ignore[arg-type]


def attempt(ref: str, minutes_ago: float, outcome: str, *, number: str | None = None, withheld: bool = False,
            sip_code: int | None = None) -> Dialled:
    at = T0 - timedelta(minutes=minutes_ago)
    return Dialled(at=at, number=number or number_of(ref), outcome=outcome, ended_at=at + timedelta(seconds=20),
                   answered=outcome == "answered", withheld=withheld, sip_code=sip_code)


def callback(kind: str, minutes_ago: float, agent: str | None = None, contact_id: int | None = None) -> CallbackFact:
    return CallbackFact(next(_ids), kind, T0 - timedelta(minutes=minutes_ago), agent, contact_id)


def verdict(d: DossierFacts, now: datetime = T0, rules: QueueRules = RULES) -> Entry | Exclusion | None:
    return evaluate(d, rules, now)


def excluded(d: DossierFacts, now: datetime = T0) -> Exclusion:
    result = verdict(d, now)
    assert isinstance(result, Exclusion), result
    return result


def entry(d: DossierFacts, now: datetime = T0, rules: QueueRules = RULES) -> Entry:
    result = verdict(d, now, rules)
    assert isinstance(result, Entry), result
    return result


def test_the_queue_order() -> None:
    dossiers = [
        dossier("NEW-SMALL", amount="100.00", days=10),
        dossier("NEW-BIG", amount="9000.00", days=40),
        dossier("NEW-LATE-PAYER", amount="50.00", days=5, repeat_late=True),
        dossier("RETRY", attempts=(attempt("RETRY", 180, "no_answer"),)),
        dossier("FOLLOW-UP", promises=(PromiseFact(next(_ids), TODAY - timedelta(days=1), "open", Decimal("200")),)),
        dossier("RETURN", callbacks=(callback("return", 60),)),
        dossier("BERTS-OLD-APPT", callbacks=(callback("appointment", 30, "bert"),)),  # past bert's grace
        dossier("ANYONES-APPT", callbacks=(callback("appointment", 20),)),
        dossier("MY-APPT", callbacks=(callback("appointment", 5, "anna"),)),
    ]
    queue = build(dossiers, RULES, T0)
    assert [(e.debtor, e.kind) for e in queue.entries] == [
        ("MY-APPT", "callback"), ("ANYONES-APPT", "callback"), ("BERTS-OLD-APPT", "callback"),
        ("RETURN", "return"), ("FOLLOW-UP", "follow_up"), ("RETRY", "retry"),
        ("NEW-LATE-PAYER", "new"), ("NEW-BIG", "new"), ("NEW-SMALL", "new")]
    assert queue.excluded == ()
    data = queue.to_json()
    assert set(data) == {"at", "agent", "block", "entries", "excluded"}
    first = data["entries"][0]
    assert {"debtor", "contact", "number", "kind", "due", "withhold_caller_id", "reason"} <= set(first)
    assert first["due"] == "2026-11-24T08:55:00+00:00"
    assert data["entries"][-1]["due"] is None
    assert build(dossiers, RULES, T0, limit=2).entries == queue.entries[:2]


def test_a_priority_boost_comes_before_everything_else_among_first_calls() -> None:
    queue = build([dossier("BIG", amount="9000.00"), dossier("BOOSTED", amount="30.00", priority_boost=1)], RULES, T0)
    assert [e.debtor for e in queue.entries] == ["BOOSTED", "BIG"]


def test_nothing_overdue_is_not_in_the_queue_at_all() -> None:
    assert verdict(dossier("PAID", amount=None)) is None
    assert verdict(dossier("NOT-YET", days=-5)) is None
    assert verdict(dossier("FLAGGED-BUT-PAID", amount=None, do_not_call=True)) is None


@pytest.mark.parametrize("flag", ["do_not_call", "written_only", "insolvent"])
def test_flags_exclude_every_kind_of_call(flag: str) -> None:
    assert excluded(dossier("X", **{flag: True})).rules == (flag,)
    appointment = excluded(dossier("Y", callbacks=(callback("appointment", 1, "anna"),), **{flag: True}))
    assert appointment.rules == (flag,) and appointment.next_allowed is None


def test_min_amount() -> None:
    small = excluded(dossier("SMALL", amount="24.99"))
    assert (small.rules, small.next_allowed) == (("min_amount",), None)
    assert isinstance(verdict(dossier("ENOUGH", amount="25.00")), Entry)


def test_dispute_open_on_the_invoices_due() -> None:
    disputed = (InvoiceFact(next(_ids), TODAY - timedelta(days=20), Decimal("800.00"), disputed=True),)
    assert excluded(dossier("DISPUTED", invoices=disputed)).rules == ("dispute_open",)
    partly = disputed + (InvoiceFact(next(_ids), TODAY - timedelta(days=20), Decimal("10.00")),)
    assert excluded(dossier("REST-TOO-SMALL", invoices=partly)).rules == ("min_amount",)
    rest = disputed + (InvoiceFact(next(_ids), TODAY - timedelta(days=20), Decimal("300.00")),)
    assert "300.00 overdue" in entry(dossier("REST", invoices=rest)).reason


def test_promise_running_until_the_day_after_its_due_date() -> None:
    running = dossier("PROMISED", promises=(PromiseFact(next(_ids), TODAY + timedelta(days=3), "open"),))
    blocked = excluded(running)
    assert blocked.rules == ("promise_running",)
    assert blocked.next_allowed == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # 28 Nov 00:00 in Amsterdam
    assert entry(running, now=datetime(2026, 11, 28, 9, 0, tzinfo=UTC)).kind == "follow_up"


def test_follow_up_after_a_broken_promise_goes_to_the_owner() -> None:
    people = (person("Bea", "bookkeeper", phone("+31201110001")), person("Olaf", "owner", phone("+31201110002")),
              person("Carla", "credit_manager", phone("+31201110003")))
    maker = people[0].id
    expired = dossier("EXPIRED", contacts=people,
                      promises=(PromiseFact(next(_ids), TODAY - timedelta(days=1), "open", contact_id=maker),))
    assert (entry(expired).kind, entry(expired).contact) == ("follow_up", "Bea")  # whoever made it
    assert entry(expired).due == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    broken = dossier("BROKEN", contacts=people,
                     promises=(PromiseFact(next(_ids), TODAY - timedelta(days=1), "broken", contact_id=maker),))
    assert (entry(broken).kind, entry(broken).contact) == ("follow_up", "Olaf")
    first_call = dossier("FIRST", contacts=people)
    assert entry(first_call).contact == "Carla"  # credit manager, then bookkeeper, for first calls
    talked = dossier("TALKED", contacts=people, attempts=(attempt("TALKED", 24 * 60, "answered"),),
                     promises=(PromiseFact(next(_ids), TODAY - timedelta(days=3), "open"),))
    assert entry(talked).kind == "new"  # the follow-up call was made (answered) after the promise expired


def test_direct_lines_before_switchboards_and_dead_numbers_skipped() -> None:
    carla = person("Carla", "credit_manager", phone("+31201234000", "switchboard"), phone("+31612340000"))
    assert entry(dossier("D", contacts=(carla,))).number == "+31612340000"
    dead = (attempt("D", 60 * 24, "not_found", number="+31612340000"),)
    assert entry(dossier("D", contacts=(carla,), attempts=dead)).number == "+31201234000"


def test_no_number() -> None:
    nobody = excluded(dossier("MUTE", contacts=(person("Piet", "owner"),)))
    assert (nobody.rules, nobody.next_allowed) == (("no_number",), None)


def test_claimed_by_another_agent_until_the_claim_expires() -> None:
    held = dossier("HELD", claim=Claim(0, "bert", T0 + timedelta(minutes=10)))
    blocked = excluded(held)
    assert (blocked.rules, blocked.next_allowed) == (("claimed",), T0 + timedelta(minutes=10))
    mine = dossier("MINE", claim=Claim(0, "anna", T0 + timedelta(minutes=10)))
    assert entry(mine).kind == "new"
    expired = dossier("OLD", claim=Claim(0, "bert", T0 - timedelta(minutes=1)))
    assert entry(expired).kind == "new"


def test_calling_window_in_the_debtors_own_zone() -> None:
    new_york = dossier("NY", pack=OFFICE, tz="America/New_York")
    blocked = excluded(new_york)  # 04:00 in New York
    assert blocked.rules == ("calling_window",)
    assert blocked.next_allowed == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert entry(new_york, now=datetime(2026, 11, 24, 13, 0, tzinfo=UTC)).kind == "new"
    assert entry(dossier("AMS", pack=OFFICE)).kind == "new"  # 10:00 in Amsterdam


def test_frequency_cap_and_cooldown_from_the_policy_engine() -> None:
    capped_pack = PolicyPack(name="cap", window=ALWAYS.window, frequency=Frequency(max_calls=2, per_days=7))
    ref = "CAPPED"
    capped = dossier(ref, pack=capped_pack, attempts=(attempt(ref, 3 * 24 * 60, "busy"),
                                                      attempt(ref, 2 * 24 * 60, "busy")))
    blocked = excluded(capped)
    assert blocked.rules == ("frequency_cap",)
    assert blocked.next_allowed == T0 + timedelta(days=4, seconds=0)
    cool_pack = PolicyPack(name="cool", window=ALWAYS.window, frequency=Frequency(cooldown_after_conversation_days=7))
    cooled = dossier("COOL", pack=cool_pack, attempts=(attempt("COOL", 2 * 24 * 60, "answered"),))
    assert excluded(cooled).rules == ("cooldown",)
    assert excluded(cooled).next_allowed == T0 + timedelta(days=5, seconds=0)


def test_retry_rules_hold_a_dossier() -> None:
    waiting = excluded(dossier("W", attempts=(attempt("W", 30, "no_answer"),)))
    assert waiting.rules == ("retry_delay",)
    assert waiting.next_allowed == T0 + timedelta(minutes=90, seconds=20)
    today = excluded(dossier("T", attempts=(attempt("T", 30, "answered"),)))
    assert today.rules == ("contacted_today",)
    assert today.next_allowed == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    calls = tuple(attempt("M", minutes, "no_answer") for minutes in (500, 370, 240))
    assert excluded(dossier("M", attempts=calls)).rules == ("retry_max_per_day",)


def test_an_appointment_the_debtor_asked_for_overrides_contacted_today() -> None:
    d = dossier("ASKED", attempts=(attempt("ASKED", 60, "answered"),),
                callbacks=(callback("appointment", 1, "anna"),))
    assert entry(d).kind == "callback"


def test_appointments_of_another_agent_wait_out_the_grace() -> None:
    berts = dossier("B", callbacks=(callback("appointment", 5, "bert"),))
    blocked = excluded(berts)
    assert (blocked.rules, blocked.next_allowed) == (("appointment_owner",), T0 + timedelta(minutes=5))
    assert entry(berts, rules=QueueRules(**{**RULES.__dict__, "agent": "bert"})).kind == "callback"
    assert entry(berts, now=T0 + timedelta(minutes=5)).kind == "callback"


def test_a_future_appointment_holds_other_calls() -> None:
    later = dossier("L", callbacks=(callback("appointment", -120, "anna"),))
    blocked = excluded(later)
    assert (blocked.rules, blocked.next_allowed) == (("callback_scheduled",), T0 + timedelta(minutes=120))


def test_several_rules_are_all_named_and_next_allowed_is_unknown_if_one_never_ends() -> None:
    d = dossier("MANY", amount="10.00", do_not_call=True, claim=Claim(0, "bert", T0 + timedelta(minutes=5)))
    blocked = excluded(d)
    assert blocked.rules == ("do_not_call", "min_amount", "claimed")
    assert blocked.next_allowed is None


def test_retry_goes_to_the_same_number_and_withholds_after_two_no_answers() -> None:
    carla = person("Carla", "credit_manager", phone("+31612340000"))
    bea = person("Bea", "bookkeeper", phone("+31612340001"))
    runs = (attempt("R", 400, "no_answer", number="+31612340001"),
            attempt("R", 250, "no_answer", number="+31612340001"))
    retry = entry(dossier("R", contacts=(carla, bea), attempts=runs))
    assert (retry.kind, retry.number, retry.contact, retry.withhold_caller_id) == ("retry", "+31612340001", "Bea", True)
    forbidden = PolicyPack(name="shown", window=ALWAYS.window, caller_id=CallerId(withhold="forbidden"))
    assert not entry(dossier("R", contacts=(carla, bea), attempts=runs, pack=forbidden)).withhold_caller_id
    never = QueueRules(**{**RULES.__dict__, "withhold_after": 0})
    assert not entry(dossier("R", contacts=(carla, bea), attempts=runs), rules=never).withhold_caller_id


def test_after_a_433_the_retry_presents_the_caller_id() -> None:
    carla = person("Carla", "credit_manager", phone("+31612340000", refuses_anonymous=True))
    runs = (attempt("A", 400, "no_answer", number="+31612340000"),
            attempt("A", 250, "no_answer", number="+31612340000"),
            attempt("A", 1, "anonymity_rejected", number="+31612340000", withheld=True, sip_code=433))
    again = entry(dossier("A", contacts=(carla,), attempts=runs))
    assert (again.kind, again.withhold_caller_id) == ("retry", False)
