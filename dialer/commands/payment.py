"""`belblok payment add|unmatched|assign|dismiss`: payments by hand, and the bank credits that wait for a person."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from ..banking.assignment import AssignError, assign, dismiss
from ..banking.worklist import unmatched_item, unmatched_list
from ..core.clock import utcnow
from ..core.money import money_text
from ..dossiers.casework import Agreement
from ..dossiers.dossier import UnknownDebtor, load_debtor
from ..dossiers.unmatched import STATUSES
from ..scheduling.promises import PromiseError, add_payment, parse_amount
from ..scheduling.rules import parse_day
from ..settings.config import Config
from .callback import fail, show
from .common import sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `payment` command."""
    payment = sub.add_parser("payment", help="payments received")
    actions = payment.add_subparsers(dest="payment_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="record a payment from a debtor")
    add.add_argument("ref", help="the debtor's reference")
    add.add_argument("--amount", required=True, help="the amount paid (1234.56 or 1234,56)")
    add.add_argument("--date", required=True, metavar="DATE", help="the payment date (2026-03-02 or 02-03-2026)")
    add.add_argument("--invoice", metavar="NUMBER", help="the invoice paid (default: on account)")
    add.add_argument("--reference", default="", metavar="TEXT", help="the bank's reference")
    listing = actions.add_parser("unmatched", help="the bank credits not matched to a debtor with certainty")
    listing.add_argument("--status", choices=(*STATUSES, "all"), default="open")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    give = actions.add_parser("assign", help="book an unmatched credit as a debtor's payment")
    give.add_argument("id", type=int, help="the unmatched credit's id (from `payment unmatched`)")
    give.add_argument("ref", help="the debtor's reference")
    give.add_argument("--invoice", action="append", default=[], metavar="NUMBER",
                      help="an invoice it pays, oldest first (repeat; none: on account)")
    give.add_argument("--by", default="cli", metavar="NAME", help="who decided (default: cli)")
    drop = actions.add_parser("dismiss", help="take a credit off the list: not a debtor's payment")
    drop.add_argument("id", type=int, help="the unmatched credit's id")
    drop.add_argument("--by", default="cli", metavar="NAME", help="who decided (default: cli)")
    payment.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Carry out the action."""
    if args.payment_command == "unmatched":
        return _unmatched(args, cfg)
    if args.payment_command in ("assign", "dismiss"):
        return _decide(args, cfg)
    return _add(args, cfg)


def _unmatched(args: argparse.Namespace, cfg: Config) -> int:
    """Print the list, oldest first."""
    with sessions_for(cfg)() as session:
        found = unmatched_list(session, args.status)
    if args.json:
        show(found)
        return 0
    for item in found["items"]:
        print(f"{item['id']:>6}  {item['booked_on']}  {item['amount']:>12} {item['currency']}  "
              f"{(item['counter_name'] or '-')[:24]:<24}  {item['reason']:<18}  {item['debtor_ref'] or ''}")
    print(f"{found['counts']['open']} open ({found['open_amount']}), {found['counts']['assigned']} assigned, "
          f"{found['counts']['dismissed']} dismissed")
    return 0


def _decide(args: argparse.Namespace, cfg: Config) -> int:
    """Assign or dismiss one credit and print it."""
    now = utcnow()
    try:
        with sessions_for(cfg).begin() as session:
            if args.payment_command == "assign":
                assign(session, args.id, args.ref, args.invoice, by=args.by, cfg=cfg, now=now)
            else:
                dismiss(session, args.id, by=args.by, now=now)
    except AssignError as exc:
        return fail(str(exc))
    with sessions_for(cfg)() as session:
        show(unmatched_item(session, args.id))
    return 0


def _add(args: argparse.Namespace, cfg: Config) -> int:
    """Record the payment and print it with the debtor's promises."""
    sessions = sessions_for(cfg)
    try:
        amount, on = parse_amount(args.amount), parse_day(args.date)
        with sessions.begin() as session:
            debtor = load_debtor(session, args.ref)
            paid, changed = add_payment(session, debtor, amount, on, cfg=cfg, now=utcnow(),
                                        invoice_number=args.invoice, reference=args.reference)
            promises = session.scalars(select(Agreement).where(Agreement.debtor_id == debtor.id)
                                       .order_by(Agreement.id)).all()
            data = {"id": paid.id, "debtor": debtor.ref, "amount": money_text(paid.amount),
                    "date": paid.date.isoformat(), "invoice": args.invoice, "reference": paid.reference or None,
                    "promises": [{"id": a.id, "status": a.status, "changed": a.id in changed} for a in promises]}
    except (PromiseError, UnknownDebtor, ValueError) as exc:
        return fail(str(exc))
    show(data)
    return 0
