"""`belblok user add NAME --role ROLE` (password on standard input) and `belblok user list`."""

from __future__ import annotations

import argparse
import sys

from ..accounts.models import USER_ROLES
from ..accounts.users import LANGUAGES, AccountError, add_user, list_users
from ..core.clock import utcnow
from ..settings.config import Config
from .common import UsageError, sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `user` command."""
    user = sub.add_parser("user", help="manage the people who log in to the panel")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=USER_ROLES)
    add.add_argument("--email", help="the user's e-mail address")
    add.add_argument("--agent-line", metavar="SIP_URI", help="the agent's own phone, e.g. sip:anna@192.0.2.10:5060")
    add.add_argument("--language", choices=LANGUAGES, help="UI language (default: the team's)")
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", help="list the users")
    listing.set_defaults(handler=run_list)


def _password() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("give the password on standard input")
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise UsageError("the password must not be empty (give it on standard input)")
    return password


def run_add(args: argparse.Namespace, cfg: Config) -> int:
    """Create the user with an argon2 hash of the password read from stdin."""
    password = _password()
    sessions = sessions_for(cfg)
    try:
        with sessions.begin() as session:
            user = add_user(session, args.name, args.role, password, now=utcnow(), email=args.email,
                            agent_line=args.agent_line, language=args.language)
            print(f"user {user.name} ({user.role}) added")
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    return 0


def run_list(args: argparse.Namespace, cfg: Config) -> int:
    """Print one line per user: name, role, language, e-mail."""
    with sessions_for(cfg)() as session:
        for user in list_users(session):
            print("\t".join([user.name, user.role, user.language or "-", user.email or "-"]))
    return 0
