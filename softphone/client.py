"""The coordinator's asyncio proxy for one worker process; survives the worker's death."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict

from . import protocol as P
from .handle import CallHandle
from .settings import WorkerSettings

__all__ = ["RegistrationError", "Worker", "WorkerError", "WorkerSettings"]

log = logging.getLogger(__name__)

RESTART_LIMIT = 5  # restarts within RESTART_WINDOW_S before we give up
RESTART_WINDOW_S = 60.0


class WorkerError(RuntimeError):
    """A worker refused a command, could not start, or is gone for good."""


class RegistrationError(WorkerError):
    """The registrar did not accept our credentials."""


class Worker:
    """Spawns `python -m softphone.worker`, speaks the protocol, restarts it if it dies."""

    def __init__(self, settings: WorkerSettings, *, restart: bool = True,
                 on_restart: Callable[[Worker, int | None], None] | None = None,
                 on_incoming: Callable[[CallHandle], None] | None = None) -> None:
        self.settings = settings
        self.restart = restart
        self.restarts = 0
        self.registration: P.Registration | None = None
        self.local_port: int | None = None
        self._on_restart = on_restart
        self._on_incoming = on_incoming
        self._proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._refs = itertools.count(1)
        self._replies: dict[int, asyncio.Future[P.Reply]] = {}
        self._calls: dict[str, CallHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._crashes: deque[float] = deque()
        self._stopping = False
        self._hello: asyncio.Future[P.Hello] | None = None
        self.gone = asyncio.Event()

    @property
    def pid(self) -> int | None:
        """The current worker process id."""
        return self._proc.pid if self._proc else None

    @property
    def name(self) -> str:
        """The worker's name with its pid, as logged on attempts."""
        return f"{self.settings.name}:{self.pid}"

    # -- life cycle -----------------------------------------------------------

    async def start(self) -> dict:
        """Spawn the process and bring up its SIP stack; returns the start reply's data."""
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._hello = loop.create_future()
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "softphone.worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        proc = self._proc
        self._spawn(self._read_stdout(proc))
        self._spawn(self._read_stderr(proc))
        hello = await asyncio.wait_for(self._hello, 30)
        if hello.version != P.PROTOCOL_VERSION:
            raise WorkerError(f"worker speaks protocol {hello.version}, we speak {P.PROTOCOL_VERSION}")
        fields = {k: v for k, v in asdict(self.settings).items()}
        # A registrar that never answers costs pjsip timer F (32 s) before it reports.
        reply = await self._request(P.Start(id=self._next_id(), **fields), timeout=45)
        self.local_port = int(reply["local_port"])
        reg = reply.get("registration")
        if reg and reg["code"] // 100 != 2:
            raise RegistrationError(f"registration at {self.settings.registrar} failed: {reg['code']} {reg['reason']}")
        return reply

    async def stop(self) -> None:
        """Hang up everything and let the worker exit; kill it if it does not."""
        self._stopping = True
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        try:
            await self._request(P.Shutdown(id=self._next_id()), timeout=10)
        except (WorkerError, asyncio.TimeoutError):
            proc.kill()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
        await self.gone.wait()

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- calls --------------------------------------------------------------------

    async def dial(self, user: str, *, withhold: bool = False, ring_timeout_s: float = 30.0,
                   hangup_after_s: float | None = None, record: bool = True, bridge: bool = True,
                   ref: str | None = None, announcement: str | None = None) -> CallHandle:
        """Dial `user` (E.164) at the trunk; returns once the worker has taken the call."""
        return await self._call(P.Dial(
            id=self._next_id(), call=ref or f"call-{next(self._refs)}", uri=self.settings.uri_for(user),
            withhold=withhold, ring_timeout_s=ring_timeout_s, hangup_after_s=hangup_after_s,
            record=record, bridge=bridge, announcement=announcement,
        ), withheld=withhold)

    async def dial_uri(self, uri: str, **options: object) -> CallHandle:
        """Dial a full SIP URI (tests, simulated lines)."""
        ref = str(options.pop("ref", None) or f"call-{next(self._refs)}")
        cmd = P.Dial(id=self._next_id(), call=ref, uri=uri, **options)  # type: ignore[arg-type]
        return await self._call(cmd, withheld=cmd.withhold)

    async def open_agent_line(self, uri: str, *, ring_timeout_s: float = 30.0) -> CallHandle:
        """Call the agent's phone; answered calls are bridged onto it while it is up."""
        cmd = P.OpenAgentLine(id=self._next_id(), call=f"agent-{next(self._refs)}", uri=uri,
                              ring_timeout_s=ring_timeout_s)
        return await self._call(cmd, withheld=False)

    async def monitor(self, ref: str, uri: str, mode: str = "listen", *, ring_timeout_s: float = 30.0) -> CallHandle:
        """Join the supervisor's phone `uri` to live call `ref` (or change its mode); the handle is the leg's."""
        leg = f"{ref}.monitor"
        handle = self._calls.get(leg)
        cmd = P.Monitor(id=self._next_id(), call=ref, uri=uri, mode=mode, ring_timeout_s=ring_timeout_s)
        if handle is not None and not handle.ended:
            await self._request(cmd)
            return handle
        # Registered before the request: the leg's first event may be read before the reply's waiter runs.
        handle = self._calls[leg] = CallHandle(leg, uri, withheld=False, hangup=self.hangup)
        try:
            await self._request(cmd)
        except BaseException:
            self._calls.pop(leg, None)
            raise
        return handle

    async def _call(self, cmd: P.Dial | P.OpenAgentLine, *, withheld: bool) -> CallHandle:
        handle = CallHandle(cmd.call, cmd.uri, withheld=withheld, hangup=self.hangup,
                            record_start=self.start_recording)
        self._calls[cmd.call] = handle
        try:
            await self._request(cmd)
        except BaseException:
            self._calls.pop(cmd.call, None)
            raise
        return handle

    async def start_recording(self, ref: str) -> bool:
        """Start recording call `ref` now."""
        data = await self._request(P.RecordStart(id=self._next_id(), call=ref))
        return bool(data.get("started"))

    async def route(self, ref: str, action: str, **options: object) -> dict:
        """Tell the worker what to do with incoming call `ref` (held ringing): see protocol.Route."""
        command = P.Route(id=self._next_id(), call=ref, action=action, **options)  # type: ignore[arg-type]
        return await self._request(command)

    async def hangup(self, ref: str) -> None:
        """Hang up call `ref`."""
        try:
            await self._request(P.Hangup(id=self._next_id(), call=ref))
        except WorkerError as exc:
            log.info("hangup of %s: %s", ref, exc)

    async def ping(self) -> dict:
        """Round-trip to the worker; returns its live and queued call counts."""
        return await self._request(P.Ping(id=self._next_id()))

    # -- plumbing -----------------------------------------------------------------

    def _next_id(self) -> int:
        return next(self._ids)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _request(self, cmd: P.Message, timeout: float = 15.0) -> dict:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise WorkerError("the worker is not running")
        future: asyncio.Future[P.Reply] = asyncio.get_running_loop().create_future()
        cid = getattr(cmd, "id")
        self._replies[cid] = future
        try:
            proc.stdin.write(P.encode(cmd))
            await proc.stdin.drain()
            reply = await asyncio.wait_for(future, timeout)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WorkerError("the worker is gone") from exc
        finally:
            self._replies.pop(cid, None)
        if not reply.ok:
            raise WorkerError(reply.error or "the worker refused the command")
        return reply.data

    async def _read_stdout(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            try:
                self._dispatch(P.decode(line))
            except P.ProtocolError as exc:
                log.warning("worker %s: %s", self.name, exc)
            except Exception:
                log.exception("handling a message from worker %s failed", self.name)
        code = await proc.wait()
        self._spawn(self._after_exit(proc, code))

    async def _read_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = line.decode("utf-8", "replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("worker %s: %s", proc.pid, text)

    def _dispatch(self, msg: P.Message) -> None:
        if isinstance(msg, P.Hello):
            if self._hello and not self._hello.done():
                self._hello.set_result(msg)
        elif isinstance(msg, P.Reply):
            future = self._replies.get(msg.id)
            if future is not None and not future.done():
                future.set_result(msg)
            elif not msg.ok:
                log.warning("worker %s: %s", self.name, msg.error)
        elif isinstance(msg, P.CallEvent):
            if msg.kind == "incoming":
                self._incoming(msg)
            handle = self._calls.get(msg.call)
            if handle is not None:
                handle.deliver(msg)
                if handle.result_ready:
                    del self._calls[msg.call]
        elif isinstance(msg, P.Registration):
            self.registration = msg
        elif isinstance(msg, P.Log):
            log.log(logging.getLevelName(msg.level.upper()), "worker %s: %s", self.name, msg.text)

    def _incoming(self, event: P.CallEvent) -> None:
        handle = CallHandle(event.call, event.remote or "", withheld=False, hangup=self.hangup,
                            record_start=self.start_recording, router=self.route, transfer=event.transfer)
        self._calls[event.call] = handle
        if self._on_incoming is not None:
            self._on_incoming(handle)

    async def _after_exit(self, proc: asyncio.subprocess.Process, code: int) -> None:
        why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        for future in self._replies.values():
            if not future.done():
                future.set_result(P.Reply(id=0, ok=False, error=f"the worker died ({why})"))
        live = list(self._calls.values())
        self._calls.clear()
        for handle in live:
            handle.interrupt(f"worker {proc.pid} died ({why})")
        if self._stopping:
            self.gone.set()
            return
        tail = " | ".join(list(self._stderr_tail)[-5:])
        log.error("worker %s died (%s) with %d live call(s); last output: %s", proc.pid, why, len(live), tail)
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > RESTART_WINDOW_S:
            self._crashes.popleft()
        if not self.restart or len(self._crashes) > RESTART_LIMIT:
            log.error("worker %s: not restarting (%d deaths in %.0f s)", self.settings.name,
                      len(self._crashes), RESTART_WINDOW_S)
            self.gone.set()
            return
        try:
            await self.start()
        except Exception:
            log.exception("restarting worker %s failed", self.settings.name)
            self.gone.set()
            return
        self.restarts += 1
        log.warning("worker %s restarted as pid %s", self.settings.name, self.pid)
        if self._on_restart is not None:
            self._on_restart(self, proc.pid)
