"""What each wrap-up outcome counts as: a contact, a right-party contact, a promise (data; docs/reports.md)."""

from __future__ import annotations

from dataclasses import dataclass

from .form import OUTCOMES


@dataclass(frozen=True)
class OutcomeFlags:
    """The flags of one outcome: someone was reached, it was the right party, a promise was made."""

    contact: bool
    right_party: bool
    promise: bool


# A contact is a conversation with a person at the debtor's number; the right party is the person who can pay or
# decide (the debtor or their decision maker); a promise is a payment agreement recorded in the wrap-up.
FLAGS: dict[str, OutcomeFlags] = {
    "promise_to_pay": OutcomeFlags(contact=True, right_party=True, promise=True),
    "callback": OutcomeFlags(contact=True, right_party=True, promise=False),
    "complaint_raised": OutcomeFlags(contact=True, right_party=True, promise=False),
    "refused": OutcomeFlags(contact=True, right_party=True, promise=False),
    "broke_off": OutcomeFlags(contact=True, right_party=True, promise=False),
    "wrong_number": OutcomeFlags(contact=True, right_party=False, promise=False),
    "no_contact": OutcomeFlags(contact=False, right_party=False, promise=False),
}
assert set(FLAGS) == set(OUTCOMES), "every wrap-up outcome has its flags"


def with_flag(flag: str) -> tuple[str, ...]:
    """The outcomes that carry `flag` (contact, right_party or promise)."""
    return tuple(sorted(o for o, f in FLAGS.items() if getattr(f, flag)))
