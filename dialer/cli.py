"""The `belblok` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence

from . import config as configuration
from .calllog import CallLog
from .database import DatabaseError, ensure_schema, make_engine, schema_state, session_factory, upgrade
from .numbers import InvalidNumber, normalise

EXIT_USAGE = 2


class UsageError(Exception):
    """A user mistake the command reports in one line and exits 2 for."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="belblok", description="Dialer and call logger for credit control.")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: $BELBLOK_CONFIG or config/belblok.toml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="create or migrate the database")
    db_sub.add_parser("status", help="show whether the schema is current")

    call = sub.add_parser("call", help="place one call through the configured trunk")
    call.add_argument("number", help="the number to call, national or international form")
    call.add_argument("--withhold-id", action="store_true", help="withhold the caller ID (CLIR) for this call")
    call.add_argument("--ring-timeout", type=_positive, metavar="S", help="give up after S seconds of ringing")
    call.add_argument("--hangup-after", type=_positive, metavar="S", help="hang up S seconds after answer")
    call.add_argument("--agent-line", metavar="SIP_URI", help="call this phone first and bridge the call onto it")
    call.add_argument("--agent", metavar="NAME", help="agent name recorded on the attempt")

    attempts = sub.add_parser("attempts", help="list the most recent call attempts as JSON lines")
    attempts.add_argument("--limit", type=int, default=20)

    sub.add_parser("demo", help="place demo calls to simulated lines on this machine (no SIP account needed)")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _calllog(cfg: configuration.Config) -> CallLog:
    engine = make_engine(cfg.database.url)
    ensure_schema(engine, auto_create=True)
    return CallLog(session_factory(engine))


def _db(args: argparse.Namespace, cfg: configuration.Config) -> int:
    engine = make_engine(cfg.database.url)
    if args.db_command == "upgrade":
        before = schema_state(engine)
        upgrade(engine)
        print(f"database {before} → current")
    else:
        print(schema_state(engine))
    return 0


def _call(args: argparse.Namespace, cfg: configuration.Config) -> int:
    from .calls import run_call

    number = normalise(args.number, cfg.numbers.default_region)
    cfg.sip.secret()  # a missing password variable is a config error, before anything is dialled
    calllog = _calllog(cfg)
    result = asyncio.run(run_call(cfg, calllog, number, withhold=args.withhold_id, ring_timeout_s=args.ring_timeout,
                                  hangup_after_s=args.hangup_after, agent_line=args.agent_line or cfg.agent.line or None,
                                  agent=args.agent))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _attempts(args: argparse.Namespace, cfg: configuration.Config) -> int:
    for attempt in _calllog(cfg).recent(args.limit):
        print(json.dumps(attempt.to_json(), ensure_ascii=False))
    return 0


def _demo(args: argparse.Namespace, cfg: configuration.Config) -> int:
    from .demo import run_demo

    return asyncio.run(run_demo(cfg, _calllog(cfg)))


COMMANDS: dict[str, Callable[[argparse.Namespace, configuration.Config], int]] = {
    "db": _db, "call": _call, "attempts": _attempts, "demo": _demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `belblok` console script."""
    args = _parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="belblok: %(levelname)s %(name)s: %(message)s")
    from softphone.client import RegistrationError, WorkerError

    from .telephony import AgentLineError

    try:
        cfg = configuration.load(args.config)
        return COMMANDS[args.command](args, cfg)
    except (configuration.ConfigError, InvalidNumber, DatabaseError, UsageError,
            AgentLineError, RegistrationError, WorkerError) as exc:
        print(f"belblok: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("belblok: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
