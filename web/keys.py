"""Typed application keys: everything the views share, wired once in `create_app`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialer.accounts.users import Identity
from dialer.calls.desk import Switchboard
from dialer.calls.teamline import TeamLine
from dialer.demo.network import DemoNetwork
from dialer.live.events import EventHub
from dialer.live.floor import Floor
from dialer.live.relay import EventRelay
from dialer.mail.mailer import Mailer
from dialer.scheduling.blockclock import BlockClock
from dialer.scheduling.scheduler import CallbackScheduler
from dialer.sessions.dialsession import DialSessions
from dialer.settings.config import Config
from dialer.wrapup.negotiation import NegotiationRoom

from .readpool import ReadPool

CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", Engine)
SESSIONS = web.AppKey("sessions", sessionmaker[Session])
READS = web.AppKey("reads", sessionmaker[Session])  # autocommit: one-statement reads without BEGIN/ROLLBACK
READ_POOL = web.AppKey("read_pool", ReadPool)  # PostgreSQL only: the screens' reads on the event loop
HUB = web.AppKey("hub", EventHub)
RELAY = web.AppKey("relay", EventRelay)  # PostgreSQL only: live events to and from the other coordinators
FLOOR = web.AppKey("floor", Floor)  # agent states, stored and shared between coordinators
SWITCHBOARD = web.AppKey("switchboard", Switchboard)
TEAM_LINE = web.AppKey("team_line", TeamLine)
DEMO = web.AppKey("demo_network", DemoNetwork)  # only under `belblok serve --demo`
MAILER = web.AppKey("mailer", Mailer)
ROOM = web.AppKey("room", NegotiationRoom)
CLOCK = web.AppKey("clock", Callable[[], datetime])
SCHEDULER = web.AppKey("scheduler", CallbackScheduler)
DIAL_SESSIONS = web.AppKey("dial_sessions", DialSessions)  # agents' calling sessions (queue dialling)
BLOCK_CLOCK = web.AppKey("block_clock", BlockClock)  # opens and closes calling blocks (APScheduler)  # call-backs, return calls, promise follow-up
CONFIG_DIR = web.AppKey("config_dir", Path)
OUTBOX_DIR = web.AppKey("outbox_dir", Path)
SOCKETS = web.AppKey("sockets", set)
PLAYS = web.AppKey("recording_plays", dict)  # (recording, user) → last logged playback (monotonic)
PANEL_SETUP = web.AppKey("panel_setup", dict)  # language → the agent screen script's fixed data, as JSON
LOGINS = web.AppKey("logins", dict)  # a short-lived cache of resolved credentials (web/auth.py)

# Per request, set by the auth middleware.
USER = web.RequestKey("user", Identity)
CSRF = web.RequestKey("csrf", str)
VIA = web.RequestKey("via", str)  # "cookie" or "bearer"
