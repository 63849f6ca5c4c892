"""Who to call and on which number: the decision maker for the dossier's stage, direct lines first."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .facts import ContactFact, PhoneFact

# The decision maker first (DOMAIN.md, 001 §6.7.1): a first call or a retry goes to whoever pays the
# invoices (credit manager, then bookkeeper); after a promise was broken the owner decides.
ROLE_ORDER = {
    "new": ("credit_manager", "bookkeeper", "owner", "other"),
    "retry": ("credit_manager", "bookkeeper", "owner", "other"),
    "follow_up": ("credit_manager", "bookkeeper", "owner", "other"),
    "escalation": ("owner", "credit_manager", "bookkeeper", "other"),
    "callback": ("credit_manager", "bookkeeper", "owner", "other"),
    "return": ("credit_manager", "bookkeeper", "owner", "other"),
}
PHONE_ORDER = ("direct", "switchboard")


@dataclass(frozen=True)
class Choice:
    """The contact and number chosen."""

    contact: ContactFact
    phone: PhoneFact


def choose(contacts: Sequence[ContactFact], stage: str, *, prefer_contact: int | None = None,
           prefer_number: str | None = None, dead: Collection[str] = ()) -> Choice | None:
    """The best (contact, number) for `stage`, or None if no dialable number is known."""
    usable = [(c, p) for c in contacts for p in c.phones if p.number not in dead and not p.barred]
    if not usable:
        return None
    if prefer_number is not None:
        # A retry goes to the number that did not answer, so its run of no-answers can count.
        same = [(c, p) for c, p in usable if p.number == prefer_number]
        if same:
            return Choice(*same[0])
    roles = ROLE_ORDER.get(stage, ROLE_ORDER["new"])

    def rank(pair: tuple[ContactFact, PhoneFact]) -> tuple[int, int, int, int, int]:
        contact, phone = pair
        role = roles.index(contact.role) if contact.role in roles else len(roles)
        kind = PHONE_ORDER.index(phone.kind) if phone.kind in PHONE_ORDER else len(PHONE_ORDER)
        return (0 if contact.id == prefer_contact else 1, role, contact.id, kind, phone.id)

    return Choice(*min(usable, key=rank))
