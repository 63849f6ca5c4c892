"""Loading the queue's facts for a set of dossiers: a handful of queries, whatever the number of dossiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import ARRAY, Integer, String, any_, bindparam, func, select
from sqlalchemy.engine import Connection

from ..calllog.attempt import Attempt
from ..dossiers.callbacks import Callback
from ..dossiers.casework import Agreement, Complaint, complaint_invoices
from ..dossiers.donotcall import DoNotCall
from ..dossiers.dossier import LATE_WINDOW_DAYS, REPEAT_LATE_THRESHOLD
from ..dossiers.ledger import Invoice, Payment
from ..dossiers.parties import Contact, Debtor, Phone
from ..policy.engine import PolicyPack, combine
from ..policy.packs import load_pack, pack_for
from ..settings.config import Config
from .claimmodel import DossierClaim
from .facts import (
    DEFAULT_PACK_KEY,
    CallbackFact,
    Claim,
    ContactFact,
    DossierFacts,
    InvoiceFact,
    PhoneFact,
    PromiseFact,
)
from .retry import Dialled

LEDGER_LOOKBACK = timedelta(days=35)  # calls that count for caps, cool-downs and retries
ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
PACKAGED_POLICIES = Path(__file__).resolve().parents[2] / "config" / "policies"
CHUNK = 500


def policy_directory() -> Path:
    """Where policy packs live: ./config/policies, else the packs shipped with Belblok."""
    local = Path("config/policies")
    return local if local.is_dir() else PACKAGED_POLICIES


def debtor_pack(*, policy: str | None, country: str | None, region: str | None, kind: str, number: str | None,
                team_policy: str) -> PolicyPack:
    """The contact policy for a call to `number`: the debtor's own pack, else by address and number region."""
    return _pack(policy, (country or "").upper(), region, kind, _region_of(number), team_policy)


@lru_cache(maxsize=1024)
def _pack(policy: str | None, country: str, region: str | None, kind: str, number_region: str | None,
          team_policy: str) -> PolicyPack:
    folder = policy_directory()
    if policy:
        return load_pack(policy, folder)
    kind = kind if kind in ("company", "person") else "company"
    # As pack_for: the address's pack, made stricter by the number's region when that differs.
    sources = [(country or None, region)]
    if number_region and number_region != country:
        sources.append((number_region, None))
    # Business debtors get the team's pack (`[team] policy`); statutory packs (nl-wki, be, us-*) stay.
    packs = [pack_for(country=c, region=r, kind=kind, team_default=team_policy, directory=folder) for c, r in sources]
    return combine(packs)


@lru_cache(maxsize=65536)
def _region_of(number: str | None) -> str | None:
    if not number:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None


def debtor_zone(timezone: str | None, country: str | None, team_country: str, team_zone: str) -> str:
    """The debtor's zone: their own, else their country's (if it has one), else the team's."""
    name = timezone
    if not name and (country or "").upper() != team_country.upper():
        name = _country_zone((country or "").upper())
    try:
        ZoneInfo(name or team_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return team_zone
    return name or team_zone


@lru_cache(maxsize=64)
def _country_zone(country: str) -> str | None:
    try:
        lines = ZONE_TAB.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    zones = [line.split("\t")[2] for line in lines if line and not line.startswith("#")
             and line.split("\t")[0] == country]
    return zones[0] if len(zones) == 1 else None


def one_of(connection: Connection, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values`: one array parameter on PostgreSQL (the SQL stays the same, so it is cached)."""
    values = list(values)
    if connection.dialect.name == "postgresql":
        kind = Integer if all(isinstance(v, int) for v in values) else String
        return column == any_(bindparam(None, values, type_=ARRAY(kind)))
    return column.in_(values)


def load_facts(connection: Connection, debtor_ids: Sequence[int], *, now: datetime, today: date,
               cfg: Config) -> list[DossierFacts]:
    """The facts of these dossiers as they stood at `now` (later rows are left out), in the order given."""
    out: list[DossierFacts] = []
    for chunk in _chunks(list(dict.fromkeys(debtor_ids))):
        out += _load(connection, chunk, now, today, cfg)
    return out


def _load(c: Connection, ids: list[int], now: datetime, today: date, cfg: Config) -> list[DossierFacts]:
    # Six queries for any number of dossiers: round trips, not rows, are what a queue read costs.
    debtors = {row.id: row for row in c.execute(
        select(Debtor.__table__, DossierClaim.agent.label("claim_agent"),
               DossierClaim.expires_at.label("claim_expires"))
        .outerjoin(DossierClaim, (DossierClaim.debtor_id == Debtor.id) & (DossierClaim.expires_at > now))
        .where(one_of(c, Debtor.id, ids)))}
    refs = {row.ref: row.id for row in debtors.values()}
    contacts: dict[int, dict[int, tuple[str, str, list[PhoneFact]]]] = defaultdict(dict)
    for row in c.execute(select(Contact.id, Contact.debtor_id, Contact.name, Contact.role, Phone.id.label("phone_id"),
                                Phone.number, Phone.kind, Phone.refuses_anonymous,
                                DoNotCall.number.label("barred"))
                         .outerjoin(Phone, Phone.contact_id == Contact.id)
                         .outerjoin(DoNotCall, DoNotCall.number == Phone.number)
                         .where(one_of(c, Contact.debtor_id, ids)).order_by(Contact.id, Phone.id)):
        _, _, numbers = contacts[row.debtor_id].setdefault(row.id, (row.name, row.role, []))
        if row.phone_id is not None:
            numbers.append(PhoneFact(row.phone_id, row.number, row.kind, bool(row.refuses_anonymous),
                                     barred=row.barred is not None))
    window = today - timedelta(days=LATE_WINDOW_DAYS)
    disputed = (select(complaint_invoices.c.invoice_id)
                .join(Complaint, Complaint.id == complaint_invoices.c.complaint_id)
                .where(one_of(c, Complaint.debtor_id, ids), Complaint.status == "open").distinct()
                .subquery("disputed"))
    last_paid = select(func.max(Payment.date)).where(Payment.invoice_id == Invoice.id).scalar_subquery()
    invoices: dict[int, list[InvoiceFact]] = defaultdict(list)
    late: dict[int, int] = defaultdict(int)
    for row in c.execute(select(Invoice.id, Invoice.debtor_id, Invoice.due_date, Invoice.open_amount,
                                last_paid.label("last_paid"), disputed.c.invoice_id.label("disputed"))
                         .outerjoin(disputed, disputed.c.invoice_id == Invoice.id)
                         .where(one_of(c, Invoice.debtor_id, ids),
                                (Invoice.open_amount > 0) | (Invoice.due_date >= window))):
        if row.open_amount > 0:
            invoices[row.debtor_id].append(InvoiceFact(row.id, row.due_date, row.open_amount, row.disputed is not None))
        if row.due_date >= window and ((row.open_amount > 0 and row.due_date < today)
                                       or (row.last_paid is not None and row.last_paid > row.due_date)):
            late[row.debtor_id] += 1
    promises: dict[int, list[PromiseFact]] = defaultdict(list)
    broken: set[int] = set()
    followed = select(Callback.id).where(Callback.agreement_id == Agreement.id).exists()
    for row in c.execute(select(Agreement.id, Agreement.debtor_id, Agreement.due_date, Agreement.status,
                                Agreement.amount, Agreement.contact_id, followed.label("followed"))
                         .where(one_of(c, Agreement.debtor_id, ids), Agreement.status.in_(("open", "broken")),
                                Agreement.created_at <= now)):
        broken.update([row.debtor_id] if row.status == "broken" else [])
        promises[row.debtor_id].append(PromiseFact(row.id, row.due_date, row.status, row.amount, row.contact_id,
                                                   followed=bool(row.followed)))
    callbacks: dict[int, list[CallbackFact]] = defaultdict(list)
    for row in c.execute(select(Callback.id, Callback.debtor_id, Callback.kind, Callback.due_at, Callback.agent,
                                Callback.contact_id)
                         .where(one_of(c, Callback.debtor_id, ids), Callback.status.in_(("pending", "claimed")),
                                Callback.created_at <= now)):
        callbacks[row.debtor_id].append(CallbackFact(row.id, row.kind, row.due_at, row.agent, row.contact_id))
    attempts: dict[int, list[Dialled]] = defaultdict(list)
    for row in c.execute(select(Attempt.debtor_ref, Attempt.created_at, Attempt.number, Attempt.outcome,
                                Attempt.ended_at, Attempt.answered_at, Attempt.caller_id_withheld, Attempt.sip_code)
                         .where(one_of(c, Attempt.debtor_ref, list(refs)), Attempt.created_at <= now,
                                Attempt.created_at >= now - LEDGER_LOOKBACK)):
        ended = row.ended_at if row.ended_at is not None and row.ended_at <= now else None
        attempts[refs[row.debtor_ref]].append(Dialled(
            at=row.created_at, number=row.number, outcome=row.outcome if ended else None, ended_at=ended,
            answered=row.answered_at is not None and row.answered_at <= now, withheld=bool(row.caller_id_withheld),
            sip_code=row.sip_code if ended else None))

    out = []
    for debtor_id in ids:
        d = debtors.get(debtor_id)
        if d is None:
            continue
        people = tuple(ContactFact(cid, name, role, tuple(numbers))
                       for cid, (name, role, numbers) in contacts[debtor_id].items())
        numbers = {p.number for person in people for p in person.phones}
        packs = {key: debtor_pack(policy=d.policy, country=d.country, region=d.region, kind=d.kind,
                                  number=key or None, team_policy=cfg.team.policy)
                 for key in (DEFAULT_PACK_KEY, *numbers)}
        answered = [a for a in attempts[debtor_id] if a.answered]
        callbacks_open = tuple(cb for cb in callbacks[debtor_id]  # an answered call at or after its time served it
                               if not any(a.at >= cb.due_at for a in answered))
        out.append(DossierFacts(
            id=d.id, ref=d.ref, name=d.name, kind=d.kind,
            tz=debtor_zone(d.timezone, d.country, cfg.team.country, cfg.team.timezone),
            do_not_call=bool(d.do_not_call), written_only=bool(d.written_only), insolvent=bool(d.insolvent),
            priority_boost=d.priority_boost or 0,
            repeat_late=late[debtor_id] >= REPEAT_LATE_THRESHOLD or debtor_id in broken,
            invoices=tuple(invoices[debtor_id]), contacts=people, attempts=tuple(attempts[debtor_id]),
            callbacks=callbacks_open, promises=tuple(promises[debtor_id]), packs=packs,
            claim=Claim(d.id, d.claim_agent, d.claim_expires) if d.claim_agent else None))
    return out


def _chunks(items: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
