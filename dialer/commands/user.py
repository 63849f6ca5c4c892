"""`belblok user add|list|disable|enable|passwd|delete`: the people who log in (passwords on standard input)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts.lifecycle import delete_user, existing, set_enabled, set_password_hash
from ..accounts.models import USER_ROLES
from ..accounts.users import LANGUAGES, AccountError, add_user, hash_password, list_users
from ..core.clock import utcnow
from ..dossiers.callbacks import Callback
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
    listing = actions.add_parser("list", help="list the users: name, role, state, last login, language, e-mail")
    listing.set_defaults(handler=run_list)
    for action, helptext, handler in (
            ("disable", "stop NAME logging in; ends their sessions and revokes their tokens at once", run_disable),
            ("enable", "let a disabled NAME log in again", run_enable),
            ("passwd", "set NAME's password (read from standard input); ends their sessions and tokens", run_passwd)):
        parser = actions.add_parser(action, help=helptext)
        parser.add_argument("name")
        parser.set_defaults(handler=handler)
    remove = actions.add_parser("delete", help="delete NAME (refused while they own pending call-backs)")
    remove.add_argument("name")
    remove.add_argument("--reassign", metavar="OTHER", help="first move NAME's pending call-backs to user OTHER")
    remove.set_defaults(handler=run_delete)


def _password() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("give the password on standard input")
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise UsageError("the password must not be empty (give it on standard input)")
    return password


def _in_transaction(cfg: Config, work: Callable[[Session], Any]) -> Any:
    """Run `work` in one transaction; an AccountError is the user's to fix and nothing is written."""
    try:
        with sessions_for(cfg).begin() as session:
            return work(session)
    except AccountError as exc:
        raise UsageError(str(exc)) from None


def run_add(args: argparse.Namespace, cfg: Config) -> int:
    """Create the user with an argon2 hash of the password read from stdin."""
    password = _password()
    user = _in_transaction(cfg, lambda s: add_user(s, args.name, args.role, password, now=utcnow(), email=args.email,
                                                   agent_line=args.agent_line, language=args.language).name)
    print(f"user {user} ({args.role}) added")
    return 0


def run_list(args: argparse.Namespace, cfg: Config) -> int:
    """Print one line per user: name, role, enabled/disabled, last login, language, e-mail (tab-separated)."""
    with sessions_for(cfg)() as session:
        for user in list_users(session):
            print("\t".join([user.name, user.role, "enabled" if user.enabled else "disabled",
                             user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "-",
                             user.language or "-", user.email or "-"]))
    return 0


def run_disable(args: argparse.Namespace, cfg: Config) -> int:
    """Disable the user: no login, no session, no token from now on."""
    _in_transaction(cfg, lambda s: set_enabled(s, args.name, False, now=utcnow()))
    print(f"user {args.name} disabled; their sessions ended and their tokens were revoked")
    return 0


def run_enable(args: argparse.Namespace, cfg: Config) -> int:
    """Enable the user again (revoked tokens stay revoked)."""
    _in_transaction(cfg, lambda s: set_enabled(s, args.name, True, now=utcnow()))
    print(f"user {args.name} enabled")
    return 0


def run_passwd(args: argparse.Namespace, cfg: Config) -> int:
    """Set a new password from stdin; the user's sessions end and their tokens are revoked."""
    password = _password()
    _in_transaction(cfg, lambda s: existing(s, args.name))  # an unknown name fails before the costly hash
    hashed = hash_password(password)
    _in_transaction(cfg, lambda s: set_password_hash(s, args.name, hashed, now=utcnow()))
    print(f"password of {args.name} changed; their sessions ended and their tokens were revoked")
    return 0


def _pending(name: str) -> Any:
    return (Callback.agent == name, Callback.status == "pending")


def _delete(session: Session, name: str, reassign: str | None) -> int:
    existing(session, name)
    owned = session.scalar(select(func.count()).select_from(Callback).where(*_pending(name))) or 0
    if reassign is not None:
        other = existing(session, reassign)
        if other.name == name:
            raise AccountError("--reassign must name another user")
        if not other.enabled:
            raise AccountError(f"user {reassign!r} is disabled: call-backs cannot go to them")
        session.execute(update(Callback).where(*_pending(name)).values(agent=other.name))
    elif owned:
        raise AccountError(f"user {name!r} owns {owned} pending call-back(s); give --reassign OTHER to move them first")
    delete_user(session, name)
    return owned


def run_delete(args: argparse.Namespace, cfg: Config) -> int:
    """Delete the user, moving their pending call-backs to --reassign OTHER first (all in one transaction)."""
    moved = _in_transaction(cfg, lambda s: _delete(s, args.name, args.reassign))
    suffix = f"; {moved} pending call-back(s) moved to {args.reassign}" if args.reassign else ""
    print(f"user {args.name} deleted{suffix}")
    return 0
