"""The team's number: a worker that takes incoming calls and lets `IncomingCalls` decide where each goes."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from softphone.client import Worker
from softphone.handle import CallHandle

from ..accounts.users import find_user
from ..core.clock import utcnow
from ..live.events import EventHub
from ..scheduling.callbackservice import Scheduled
from ..settings.config import Config, ConfigError
from .desk import CallTarget, Switchboard
from .incoming import IncomingCalls, desk_busy, greeting_for
from .telephony import worker_settings

log = logging.getLogger(__name__)


def greeting_path(cfg: Config, config_dir: Path = Path("config")) -> str:
    """The message a caller hears when nobody can take the call: `[incoming] greeting`, else by team language."""
    default = config_dir / greeting_for(cfg.team.ui_language).name
    path = Path(cfg.incoming.greeting) if cfg.incoming.greeting else default
    if not path.is_file():
        raise ConfigError(f"[incoming] greeting: no WAV file at {path}; record one or point the setting at it")
    return os.path.abspath(path)


class TeamLine:
    """The reception worker (registered with the team's account when `[sip] register` is on)."""

    def __init__(self, cfg: Config, sessions: sessionmaker[Session], switchboard: Switchboard, hub: EventHub, *,
                 on_scheduled: Scheduled | None = None, clock: Callable[[], datetime] = utcnow,
                 config_dir: Path = Path("config")) -> None:
        self.cfg, self.switchboard, self.sessions = cfg, switchboard, sessions
        self.calls = IncomingCalls(sessions, cfg, hub, busy=desk_busy(switchboard), clock=clock,
                                   on_scheduled=on_scheduled, put_through=self.put_through)
        settings = replace(worker_settings(cfg, "reception"), incoming="ask", greeting=greeting_path(cfg, config_dir),
                           ask_timeout_s=cfg.incoming.ask_timeout_s, local_port=cfg.incoming.port)
        self.worker = Worker(settings, on_incoming=self.calls)

    async def put_through(self, agent: str, target: CallTarget, call: CallHandle) -> str:
        """Forward the held call to the agent's desk (their agent line rings first if it is down)."""
        line = await asyncio.to_thread(self._agent_line, agent)
        return await self.switchboard.put_through(agent, target, call, agent_line=line,
                                                  ring_timeout_s=self.cfg.incoming.transfer_timeout_s)

    def _agent_line(self, agent: str) -> str | None:
        with self.sessions() as session:
            user = find_user(session, agent)
            return user.agent_line if user is not None else None

    @property
    def port(self) -> int | None:
        """The local SIP port incoming calls arrive on."""
        return self.worker.local_port

    async def start(self) -> None:
        """Start the reception worker (and register, if configured)."""
        await self.worker.start()
        log.info("incoming calls: listening on SIP port %s", self.port)

    async def stop(self) -> None:
        """Let calls being decided finish, then stop the worker."""
        await self.calls.settled()
        await self.worker.stop()
