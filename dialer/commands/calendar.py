"""`belblok calendar revoke NAME`: end an agent's calendar feed address (the agent's panel shows the new one)."""

from __future__ import annotations

import argparse

from ..core.clock import utcnow
from ..scheduling.feedkeys import revoke
from ..settings.config import Config
from .common import sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `calendar` command."""
    command = sub.add_parser("calendar", help="agents' call-back calendar feeds")
    actions = command.add_subparsers(dest="action", required=True)
    revoked = actions.add_parser("revoke", help="end an agent's feed address at once (e.g. a lost phone)")
    revoked.add_argument("name", metavar="NAME", help="the agent")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Revoke: every earlier address of the agent stops working."""
    with sessions_for(cfg).begin() as session:
        revoke(session, args.name, now=utcnow())
    print(f"{args.name}: the calendar feed address is revoked; the panel (GET /api/v1/calendar) gives the new one")
    return 0
