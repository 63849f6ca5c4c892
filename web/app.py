"""The application factory: `create_app(config)` wires the database, telephony, mail and the routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import WSCloseCode, web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from dialer.blocks.model import load_blocks
from dialer.calllog.journal import CallLog
from dialer.calls.desk import Switchboard
from dialer.calls.teamline import TeamLine
from dialer.core.clock import utcnow
from dialer.demo.network import DemoNetwork
from dialer.live.events import EventHub
from dialer.live.floor import Floor
from dialer.live.relay import EventRelay
from dialer.mail.mailer import Mailer
from dialer.reports.daily import DailyReport
from dialer.reports.keeping import DayBookKeeper
from dialer.scheduling.blockclock import schedule_blocks
from dialer.scheduling.scheduler import CallbackScheduler
from dialer.scheduling.statsclock import StatsClock
from dialer.sessions.dialing import DossierDialer
from dialer.sessions.dialsession import DialSessions
from dialer.settings.config import Config
from dialer.storage.database import ensure_schema, make_engine, session_factory
from dialer.wrapup.negotiation import load_room

from . import render
from .auth import auth_middleware
from .csrf import csrf_middleware
from .errors import error_middleware
from .i18n import choose, current_language
from .keys import (
    BLOCK_CLOCK,
    CLOCK,
    CONFIG,
    CONFIG_DIR,
    DEMO,
    DIAL_SESSIONS,
    ENGINE,
    FLOOR,
    HUB,
    LOGINS,
    MAILER,
    OUTBOX_DIR,
    PANEL_SETUP,
    PLAYS,
    READ_POOL,
    READS,
    RELAY,
    ROOM,
    SCHEDULER,
    SESSIONS,
    SOCKETS,
    SWITCHBOARD,
    TEAM_LINE,
)
from .readpool import ReadPool
from .recordingworker import recordings_context
from .routes import setup_routes

log = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


@web.middleware
async def language_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """The request's UI language before login is known: the switch's cookie, else the team's."""
    cfg = request.app[CONFIG]
    current_language.set(choose(None, request.query.get("lang") or request.cookies.get("belblok_lang"),
                                cfg.team.ui_language))
    response: web.StreamResponse = await handler(request)
    if request.query.get("lang") in ("nl", "en"):
        response.set_cookie("belblok_lang", request.query["lang"], max_age=365 * 86400, path="/", samesite="Lax",
                            httponly=True, secure=cfg.web.secure_cookies)
    return response


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = make_engine(app[CONFIG].database.url)
    await asyncio.to_thread(ensure_schema, engine, auto_create=True)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    app[READS] = session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))
    if engine.dialect.name == "postgresql":
        app[READ_POOL] = ReadPool(engine)
        await app[READ_POOL].open()
    yield
    if READ_POOL in app:
        await app[READ_POOL].close()
    engine.dispose()


def _telephony(trunk_for: Callable[[str], str] | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        hub = EventHub()
        app[HUB] = hub
        cfg = app[CONFIG]
        app[FLOOR] = Floor(app[SESSIONS], hub, frozenset(c.code for c in cfg.pause_codes), clock=app[CLOCK])
        app[SWITCHBOARD] = Switchboard(cfg, CallLog(app[SESSIONS]), hub, trunk_for=trunk_for)
        relay = EventRelay(hub, app[ENGINE]) if app[ENGINE].dialect.name == "postgresql" else None
        if relay is not None:  # several coordinators on one database hear each other's events
            await relay.start()
            app[RELAY] = relay
        yield
        if relay is not None:
            await relay.stop()
        await app[SWITCHBOARD].close()
        await app[FLOOR].close()

    return context


async def _callbacks(app: web.Application) -> AsyncIterator[None]:
    # One APScheduler for the call-back timers and the calling-block clock; the database is the truth.
    cfg = app[CONFIG]
    aps = AsyncIOScheduler(timezone=UTC)
    scheduler = CallbackScheduler(app[SESSIONS], app[HUB], cfg, clock=app[CLOCK], mailer=app[MAILER], scheduler=aps)
    app[SCHEDULER] = scheduler
    engine = app[ENGINE]

    def blocks() -> list:
        with session_factory(engine)() as session:
            return load_blocks(session, cfg.blocks)

    aps.start()
    await scheduler.start()
    app[BLOCK_CLOCK] = schedule_blocks(aps, app[HUB], blocks, tz=cfg.team.timezone, country=cfg.team.country,
                                       clock=app[CLOCK])
    StatsClock(aps, engine, tz=cfg.team.timezone, clock=app[CLOCK])  # the queue's priorities, every night
    DailyReport(engine, cfg, app[MAILER], scheduler.node, clock=app[CLOCK]).arm(aps)  # [reports] daily_at
    DayBookKeeper(aps, engine, tz=cfg.team.timezone, clock=app[CLOCK])  # the reports' figures, every night
    dialer = DossierDialer(cfg, engine, app[SWITCHBOARD], app[HUB], clock=app[CLOCK])
    app[DIAL_SESSIONS] = DialSessions(dialer)
    yield
    await app[DIAL_SESSIONS].close()
    await scheduler.stop()
    aps.shutdown(wait=False)


async def _team_line(app: web.Application) -> AsyncIterator[None]:
    # The team's number: incoming calls put through to their owner's desk, or booked as return calls.
    cfg = app[CONFIG]
    if not cfg.incoming.enabled:
        yield
        return
    line = TeamLine(cfg, app[SESSIONS], app[SWITCHBOARD], app[HUB], on_scheduled=app[SCHEDULER].schedule,
                    clock=app[CLOCK], config_dir=app[CONFIG_DIR])
    await line.start()
    app[TEAM_LINE] = line
    yield
    await line.stop()


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def create_app(config: Config, *, clock: Callable[[], datetime] = utcnow, config_dir: Path = Path("config"),
               outbox_dir: Path = Path("var/outbox"), trunk_for: Callable[[str], str] | None = None,
               demo: DemoNetwork | None = None) -> web.Application:
    """The Belblok web application for `config` (tests call it with a test configuration)."""
    app = web.Application(middlewares=[error_middleware, language_middleware, auth_middleware, csrf_middleware],
                          client_max_size=32 * 1024 * 1024)
    app[CONFIG] = config
    app[CLOCK] = clock
    app[CONFIG_DIR] = config_dir
    app[OUTBOX_DIR] = outbox_dir
    app[MAILER] = Mailer(config.smtp, outbox_dir)
    app[ROOM] = load_room(config_dir / "negotiation.toml", min_amount=config.queue.min_amount)
    app[SOCKETS] = set()
    app[LOGINS] = {}
    app[PANEL_SETUP] = {}
    app[PLAYS] = {}
    if demo is not None:
        app[DEMO] = demo
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_telephony(trunk_for))
    app.cleanup_ctx.append(_callbacks)
    app.cleanup_ctx.append(_team_line)
    app.cleanup_ctx.append(recordings_context)
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_close_sockets)
    render.setup(app)
    setup_routes(app)
    return app
