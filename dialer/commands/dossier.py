"""`belblok dossier REF [--json]`: everything known about one debtor."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.clock import utcnow
from ..dossiers.dossier import UnknownDebtor, build_dossier
from ..settings.config import Config
from .common import sessions_for

EXIT_UNKNOWN = 1
OVERDUE_SHOWN = 10  # the most overdue first; --json has them all
ROLE_NAMES = {"owner": "owner", "credit_manager": "credit manager", "bookkeeper": "bookkeeper", "other": "other"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dossier` command."""
    command = sub.add_parser("dossier", help="show a debtor's dossier: open invoices, contacts, history")
    command.add_argument("ref", metavar="REF", help="the debtor's reference")
    command.add_argument("--json", action="store_true", help="print the whole dossier as JSON")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Print the dossier (today is the current date in UTC)."""
    with sessions_for(cfg)() as session:
        try:
            dossier = build_dossier(session, args.ref, utcnow().date())
        except UnknownDebtor as exc:
            print(f"belblok: error: {exc}", file=sys.stderr)
            return EXIT_UNKNOWN
    print(json.dumps(dossier, ensure_ascii=False, indent=2) if args.json else summary(dossier))
    return 0


def summary(dossier: dict[str, Any]) -> str:
    """A short text for people: who, what is open and overdue, whom to call on which number."""
    debtor = dossier["debtor"]
    currency = debtor["currency"] or ""
    overdue = [inv for inv in dossier["invoices"] if inv["days_overdue"] > 0]
    since = f", {debtor['customer_type']} customer" if debtor["customer_type"] != "unknown" else ""
    lines = [f"{debtor['name']} ({debtor['ref']}): {debtor['kind']}, {debtor['country']}{since}"]
    flags = [text for key, text in (("do_not_call", "DO NOT CALL"), ("written_only", "written contact only"),
                                    ("insolvent", "insolvent")) if debtor[key]]
    if debtor["repeat_late_payer"]:
        flags.append("repeat late payer")
    if flags:
        lines.append("Note: " + ", ".join(flags))
    lines.append(f"Open: {currency} {debtor['total_open']} on {debtor['open_invoices']} invoice(s), "
                 f"{len(overdue)} overdue" + (f" (longest {debtor['max_days_overdue']} days)" if overdue else ""))
    if overdue:
        lines.append("Overdue invoices:")
        lines += [f"  {inv['number']}  due {inv['due_date']}  open {inv['currency']} {inv['open_amount']}"
                  f"  {inv['days_overdue']} days overdue" + ("  (disputed)" if inv["disputed"] else "")
                  for inv in overdue[:OVERDUE_SHOWN]]
        if len(overdue) > OVERDUE_SHOWN:
            lines.append(f"  ... and {len(overdue) - OVERDUE_SHOWN} more (--json shows all)")
    lines.append("Contacts:" if dossier["contacts"] else "Contacts: none")
    for contact in dossier["contacts"]:
        numbers = [p["number"] + (f" ({p['label']})" if p["label"] else "") + (", switchboard"
                   if p["kind"] == "switchboard" else "") for p in contact["phones"]]
        reach = "; ".join(numbers + ([contact["email"]] if contact["email"] else [])) or "no number"
        lines.append(f"  {contact['name']} ({ROLE_NAMES.get(contact['role'], contact['role'])}): {reach}")
    open_complaints = sum(1 for c in dossier["complaints"] if c["status"] == "open")
    open_agreements = sum(1 for a in dossier["agreements"] if a["status"] == "open")
    if open_complaints or open_agreements:
        lines.append(f"Open complaints: {open_complaints}; open payment agreements: {open_agreements}")
    return "\n".join(lines)
