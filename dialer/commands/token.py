"""`belblok token create NAME`: a bearer token for API clients, printed alone on the last line."""

from __future__ import annotations

import argparse
import sys

from ..accounts.models import USER_ROLES
from ..accounts.users import AccountError, add_user, create_token, find_user
from ..core.clock import utcnow
from ..settings.config import Config
from .common import UsageError, sessions_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `token` command."""
    token = sub.add_parser("token", help="bearer tokens for API clients")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a token acting as user NAME (a service user NAME is created if there is none)")
    create.add_argument("name")
    create.add_argument("--role", choices=USER_ROLES, default="supervisor",
                        help="role of a new service user (default: supervisor)")
    create.set_defaults(handler=run_create)


def run_create(args: argparse.Namespace, cfg: Config) -> int:
    """Create the token; only its SHA-256 is stored, so this is the one time it is shown."""
    sessions = sessions_for(cfg)
    now = utcnow()
    try:
        with sessions.begin() as session:
            user = find_user(session, args.name)
            if user is None:
                user = add_user(session, args.name, args.role, None, now=now)
                print(f"created service user {user.name} ({user.role}), who cannot log in with a password",
                      file=sys.stderr)
            token = create_token(session, user, args.name, now=now)
            print(f"token for {user.name} ({user.role}); it is shown only once:")
            print(token)
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    return 0
