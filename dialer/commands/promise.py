"""`belblok promise add|list|sweep|decide`: promises to pay, their follow-up calls and escalations."""

from __future__ import annotations

import argparse
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.clock import utcnow
from ..core.money import money_text
from ..dossiers.casework import Agreement
from ..dossiers.dossier import UnknownDebtor, load_debtor
from ..dossiers.ledger import Invoice
from ..dossiers.parties import Debtor
from ..scheduling.callbackservice import callback_json, check_agent
from ..scheduling.promises import (
    DECISIONS,
    PromiseError,
    add_promise,
    decide_escalation,
    parse_amount,
    sweep,
)
from ..scheduling.rules import local_day, parse_day
from ..settings.config import Config
from .callback import fail, show
from .common import sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `promise` command."""
    promise = sub.add_parser("promise", help="promises to pay (betalingsafspraken) and their follow-up")
    actions = promise.add_subparsers(dest="promise_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="record a promise to pay; its follow-up call is scheduled")
    add.add_argument("ref", help="the debtor's reference")
    add.add_argument("--amount", required=True, help="the promised amount (1234.56 or 1234,56)")
    add.add_argument("--due", required=True, metavar="DATE", help="the promised date (2026-03-02 or 02-03-2026)")
    add.add_argument("--invoice", metavar="NUMBER", help="the invoice the promise is about")
    add.add_argument("--agent", metavar="NAME", help="the agent who made the agreement")
    listing = actions.add_parser("list", help="promises as JSON lines (open ones unless --all)")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--json", action="store_true", help="one JSON list instead of JSON lines")
    run_sweep = actions.add_parser("sweep", help="settle promises now: kept, broken, follow-ups, escalations")
    run_sweep.add_argument("--today", metavar="DATE", help="judge as on this date (default: today)")
    decide = actions.add_parser("decide", help="a supervisor's decision on an escalation task")
    decide.add_argument("task", type=int)
    decide.add_argument("--decision", required=True, choices=DECISIONS)
    decide.add_argument("--by", required=True, metavar="NAME")
    promise.set_defaults(handler=run)


def promise_json(session: Session, agreement: Agreement, debtor: Debtor | None = None) -> dict[str, Any]:
    """A promise as JSON."""
    debtor = debtor or session.get(Debtor, agreement.debtor_id)
    assert debtor is not None
    invoice = session.get(Invoice, agreement.invoice_id) if agreement.invoice_id else None
    return {"id": agreement.id, "debtor": debtor.ref, "amount": money_text(agreement.amount),
            "due": agreement.due_date.isoformat(), "invoice": invoice.number if invoice else None,
            "status": agreement.status, "agent": agreement.agent,
            "conditional_on_complaint": agreement.conditional_on_complaint_id}


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Carry out the action."""
    sessions = sessions_for(cfg)
    now = utcnow()
    try:
        if args.promise_command == "add":
            amount, due = parse_amount(args.amount), parse_day(args.due)
            with sessions.begin() as session:
                debtor = load_debtor(session, args.ref)
                check_agent(session, args.agent)
                agreement, follow = add_promise(session, debtor, amount, due, cfg=cfg, now=now,
                                                invoice_number=args.invoice, agent=args.agent)
                data = promise_json(session, agreement, debtor)
                data["follow_up"] = callback_json(follow, debtor, cfg) if follow else None
            show(data)
        elif args.promise_command == "list":
            with sessions() as session:
                query = select(Agreement).order_by(Agreement.due_date, Agreement.id)
                if not args.all:
                    query = query.where(Agreement.status == "open")
                rows = [promise_json(session, a) for a in session.scalars(query)]
            if args.json:
                show(rows)
            else:
                for row in rows:
                    show(row)
        elif args.promise_command == "sweep":
            today = parse_day(args.today) if args.today else local_day(now, ZoneInfo(cfg.team.timezone))
            with sessions.begin() as session:
                changed = [session.get(Agreement, i) for i in sweep(session, today, cfg, now=now)]
                show({"today": today.isoformat(), "changed": [promise_json(session, a) for a in changed if a]})
        else:
            with sessions.begin() as session:
                task = decide_escalation(session, args.task, args.decision, args.by, now=now)
                show({"task": task.id, "decision": task.decision, "decided_by": task.decided_by,
                      "decided_at": task.decided_at.isoformat() if task.decided_at else None})
    except (PromiseError, UnknownDebtor, ValueError) as exc:
        return fail(str(exc))
    return 0
