"""`belblok demo`: calls to simulated lines on this machine."""

from __future__ import annotations

import argparse
import asyncio

from ..settings.config import Config
from .common import calllog_for


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `demo` command."""
    demo = sub.add_parser("demo", help="place demo calls to simulated lines on this machine (no SIP account needed)")
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Run the demo calls."""
    from ..demo.lines import run_demo

    return asyncio.run(run_demo(cfg, calllog_for(cfg)))
