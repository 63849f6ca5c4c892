"""`belblok token create|list|revoke`: bearer tokens for API clients (a new one printed alone on the last line)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from ..accounts.lifecycle import list_tokens, revoke_tokens
from ..accounts.models import USER_ROLES
from ..accounts.users import AccountError, add_user, create_token, find_user
from ..core.clock import utcnow
from ..settings.config import Config
from .common import UsageError, sessions_for

DEFAULT_ROLE = "agent"  # the least a new service user can do; a supervisor's token must be asked for
MAX_DAYS = 3650


def _days(text: str) -> int:
    """argparse type: a whole number of days, 1 to MAX_DAYS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_DAYS} days")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `token` command."""
    token = sub.add_parser("token", help="bearer tokens for API clients")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a token acting as user NAME (a service user NAME is created if there is none)")
    create.add_argument("name")
    create.add_argument("--role", choices=USER_ROLES, default=None,
                        help=f"role of a new service user (default: {DEFAULT_ROLE}); an existing user keeps theirs")
    create.add_argument("--expires", type=_days, metavar="DAYS", help="the token stops working after DAYS days")
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="list the tokens: id, user, role, state, created, expires, last used")
    listing.set_defaults(handler=run_list)
    revoke = actions.add_parser("revoke", help="revoke every live token of user NAME (or only --id ID)")
    revoke.add_argument("name")
    revoke.add_argument("--id", type=int, dest="token_id", metavar="ID", help="only this token (see `token list`)")
    revoke.set_defaults(handler=run_revoke)


def run_create(args: argparse.Namespace, cfg: Config) -> int:
    """Create the token; only its SHA-256 is stored, so this is the one time it is shown."""
    sessions = sessions_for(cfg)
    now = utcnow()
    expires = now + timedelta(days=args.expires) if args.expires else None
    try:
        with sessions.begin() as session:
            user = find_user(session, args.name)
            if user is None:
                user = add_user(session, args.name, args.role or DEFAULT_ROLE, None, now=now)
                print(f"created service user {user.name} ({user.role}), who cannot log in with a password",
                      file=sys.stderr)
            elif args.role and args.role != user.role:
                raise AccountError(f"user {user.name!r} exists with role {user.role}; --role is for new service users")
            elif not user.enabled:
                raise AccountError(f"user {user.name!r} is disabled; enable them first")
            token = create_token(session, user, args.name, now=now, expires_at=expires)
            until = f", valid until {expires.isoformat(timespec='minutes')}" if expires else ""
            print(f"token for {user.name} ({user.role}){until}; it is shown only once:")
            print(token)
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"  # type: ignore[attr-defined]


def run_list(args: argparse.Namespace, cfg: Config) -> int:
    """One line per token (tab-separated); the token itself is never stored, so never shown."""
    now = utcnow()
    with sessions_for(cfg)() as session:
        for row in list_tokens(session):
            print("\t".join([str(row.id), row.user, row.role, row.state(now), _when(row.created_at),
                             _when(row.expires_at), _when(row.last_used_at)]))
    return 0


def run_revoke(args: argparse.Namespace, cfg: Config) -> int:
    """Revoke the tokens at once (a coordinator that used one in the last 10 s may accept it that long)."""
    try:
        with sessions_for(cfg).begin() as session:
            count = revoke_tokens(session, args.name, now=utcnow(), token_id=args.token_id)
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    print(f"{count} token(s) of {args.name} revoked")
    return 0
