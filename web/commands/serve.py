"""`belblok serve [--demo]`: the web panel and API; with --demo on a simulated phone network."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.commands.common import sessions_for
from dialer.core.clock import utcnow
from dialer.core.heap import freeze_start_up
from dialer.settings.config import Config, resolve_path
from dialer.storage.database import make_engine, session_factory, upgrade

DEMO_DATABASE = "sqlite:///var/demo.db"  # relative to where the demo is started, as var/outbox

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` command."""
    serve = sub.add_parser("serve", help="run the web panel and the API ([web] host and port)")
    serve.add_argument("--host", help="listen on this address instead of [web] host")
    serve.add_argument("--port", type=int, help="listen on this port instead of [web] port")
    serve.add_argument("--demo", action="store_true",
                       help="demo team, dossiers, simulated phone lines and a local mail server (var/outbox)")
    serve.set_defaults(handler=run)


def config_dir(explicit: str | None) -> Path:
    """Where the call guide and negotiation room live: beside the config file, else ./config, else the shipped one."""
    for candidate in (resolve_path(explicit).parent, Path("config"), REPO_CONFIG):
        if (candidate / "callguide").is_dir():
            return candidate
    return REPO_CONFIG


def _say(text: str) -> None:
    print(text, flush=True)


async def _serve(cfg: Config, host: str, port: int, demo: bool, directory: Path) -> int:
    from aiohttp import web

    from web.app import create_app
    from web.keys import TEAM_LINE

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    network = None
    trunk_for = None
    outbox = Path("var/outbox")
    try:
        if demo:
            from dialer.demo.data import DEMO_PASSWORD, LINES, give_phone, real_users, seed
            from dialer.demo.network import DemoNetwork

            # A database of its own, whatever [database] says: the demo's users have a published password.
            cfg = cfg.model_copy(update={"database": cfg.database.model_copy(update={"url": DEMO_DATABASE})})
            engine = make_engine(cfg.database.url)
            upgrade(engine)  # the demo database is ours: bring it to the newest schema
            with session_factory(engine).begin() as session:
                strangers = real_users(session)
                if strangers:
                    engine.dispose()
                    print(f"belblok: error: {DEMO_DATABASE} holds users the demo did not make "
                          f"({', '.join(strangers[:5])}): the demo runs on a database of its own only; move or "
                          f"delete that file to start it", file=sys.stderr)
                    return 2
                now = utcnow()
                created = seed(session, now=now, today=now.astimezone(ZoneInfo(cfg.team.timezone)).date())
            engine.dispose()
            print(f"demo: its own database, {DEMO_DATABASE.removeprefix('sqlite:///')}", file=sys.stderr)
            if created:
                print(f"demo: created {', '.join(created)}", file=sys.stderr)
            _say("Starting the simulated phone network (SIPp lines, agent phone) and the local mail server …")
            network = await DemoNetwork(LINES, outbox, cfg.sip.caller_id).start()
            engine = make_engine(cfg.database.url)
            with session_factory(engine).begin() as session:
                give_phone(session, network.supervisor_line)
            engine.dispose()
            cfg = cfg.model_copy(update={
                "sip": cfg.sip.model_copy(update={"trunk": network.default_trunk, "username": "", "transport": "udp"}),
                "agent": cfg.agent.model_copy(update={"line": network.agent_line}),
                "smtp": cfg.smtp.model_copy(update={"host": "127.0.0.1", "port": network.smtp_port,
                                                    "username": "", "password": "", "password_env": "",
                                                    "starttls": False, "use_tls": False}),
                # Plain http on loopback: a Secure cookie would never come back from the browser.
                "web": cfg.web.model_copy(update={"secure_cookies": False}),
                # The team number answers too: the panel's demo button has a debtor call in.
                "incoming": cfg.incoming.model_copy(update={"enabled": True, "port": 0}),
            })
            trunk_for = network.trunk_for
        app = create_app(cfg, outbox_dir=outbox, trunk_for=trunk_for, config_dir=directory, demo=network)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        freeze_start_up()  # timers, templates and catalogs live as long as the process: no full collection walks them
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = port or runner.addresses[0][1]
            url = f"http://{host if ':' not in host else f'[{host}]'}:{bound}/"
            _say(f"Belblok is ready at {url}")
            if demo:
                _say(f"Log in as demo / {DEMO_PASSWORD} (agent) or chef / {DEMO_PASSWORD} (supervisor). "
                     f"E-mail lands in {outbox}/ and on {url}outbox. Press Ctrl-C to stop.")
            if TEAM_LINE in app:
                _say(f"Incoming calls to the team number are taken on SIP port {app[TEAM_LINE].port}.")
            await stop.wait()
            _say("Stopping …")
        finally:
            await runner.cleanup()
    finally:
        if network is not None:
            await network.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def run(args: argparse.Namespace, cfg: Config) -> int:
    """Serve until Ctrl-C or SIGTERM, then stop everything cleanly."""
    host = args.host or cfg.web.host
    port = cfg.web.port if args.port is None else args.port
    if not args.demo:
        sessions_for(cfg)  # a database problem is reported before the server starts
    if cfg.incoming.enabled:
        from dialer.calls.teamline import greeting_path

        greeting_path(cfg, config_dir(args.config))  # a missing greeting is reported before the server starts
    from web import eventloop

    return eventloop.run(_serve(cfg, host, port, args.demo, config_dir(args.config)))
