"""`belblok payment add`: record a payment; promises it keeps are settled at once."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from ..core.clock import utcnow
from ..core.money import money_text
from ..dossiers.casework import Agreement
from ..dossiers.dossier import UnknownDebtor, load_debtor
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
    payment.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
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
