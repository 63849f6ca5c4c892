"""The `belblok` command line: global options, then one subcommand from `dialer.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

from .commands.common import UsageError
from .core.numbers import InvalidNumber
from .settings import config as configuration
from .storage.database import DatabaseError

EXIT_USAGE = 2
# Packages whose modules define subcommands. The web layer adds its own (`serve`) without dialer
# importing it: it is looked up by name, and left out if it is not installed.
COMMAND_PACKAGES = ("dialer.commands", "web.commands")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="belblok", description="Dialer and call logger for credit control.")
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: $BELBLOK_CONFIG or config/belblok.toml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for package_name in COMMAND_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package_name}.{info.name}")
            if hasattr(module, "register"):
                module.register(sub)
    return parser


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix: one line on stderr, exit 2."""
    from softphone.client import RegistrationError, WorkerError

    from .calls.telephony import AgentLineError

    return (configuration.ConfigError, InvalidNumber, DatabaseError, UsageError, AgentLineError,
            RegistrationError, WorkerError)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `belblok` console script."""
    args = _parser().parse_args(argv)
    # Everything Belblok creates (database, recordings, keys, exports) holds personal data: private to the
    # service's user whatever umask it was started under.
    os.umask(0o077)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="belblok: %(levelname)s %(name)s: %(message)s")
    try:
        cfg = configuration.load(args.config)
        return int(args.handler(args, cfg))
    except _usage_errors() as exc:
        print(f"belblok: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("belblok: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
