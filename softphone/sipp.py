"""Real SIP peers for tests, the demo and benchmarks: SIPp scenarios run as child processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from softphone.processes import (
    HOST,
    PeerError,
    bound_sockets,
    free_media_port,
    free_port,
    stop_process,
    wait_until,
)
from softphone.sipmessage import SipMessage, parse_messages

__all__ = [
    "DEFAULT_KEYS",
    "DEFAULT_PCAP",
    "HOST",
    "SCENARIO_DIR",
    "GarbagePeer",
    "PeerError",
    "SipMessage",
    "SippPeer",
    "bound_sockets",
    "free_media_port",
    "free_port",
    "parse_messages",
    "stop_process",
    "wait_until",
]

SCENARIO_DIR = Path(__file__).with_name("scenarios")
DEFAULT_PCAP = "/usr/share/sip-tester/g711a.pcap"

# SIPp refuses to load a scenario that uses a [key] nobody supplied: defaults per scenario.
DEFAULT_KEYS: dict[str, dict[str, str]] = {
    "answer": {"pcap": DEFAULT_PCAP, "ring_ms": "200", "hangup_ms": "37000"},
    "anonymous_reject": {"pcap": DEFAULT_PCAP, "ring_ms": "200", "hangup_ms": "37000"},
    "agent": {"pcap": DEFAULT_PCAP, "ring_ms": "0", "hangup_ms": "600000"},
    "reject": {"code": "486", "reason": "Busy Here", "ring_ms": "0"},
    "ring": {"ring_timeout_ms": "120000"},
    "call_uac": {"hold_ms": "1000", "user": "alice"},
    "register_uac": {"user": "alice", "expires": "60"},
}


class SippPeer:
    """One SIPp process on 127.0.0.1 running a scenario: a UAS, or a UAC when remote is given."""

    def __init__(
        self,
        scenario: str | Path = "answer",
        *,
        keys: Mapping[str, str | int] | None = None,
        transport: str = "udp",
        port: int | None = None,
        media_port: int | None = None,
        remote: str | None = None,
        max_calls: int | None = None,
        extra_args: Sequence[str] = (),
        workdir: Path | None = None,
    ) -> None:
        if transport not in ("udp", "tcp"):
            raise ValueError(f"transport must be udp or tcp, not {transport!r}")
        path = Path(scenario) if str(scenario).endswith(".xml") else SCENARIO_DIR / f"{scenario}.xml"
        if not path.is_file():
            raise FileNotFoundError(path)
        self.scenario_path = path
        self.keys = {**DEFAULT_KEYS.get(path.stem, {}), **{k: str(v) for k, v in (keys or {}).items()}}
        self.transport, self.remote, self.max_calls = transport, remote, max_calls
        self.extra_args = list(extra_args)
        self.host = HOST
        self._fixed_port, self._fixed_media = port, media_port
        self.port, self.media_port = port or 0, media_port or 0
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="sipp-"))
        self.rendered = self.workdir / path.name
        if self.rendered.resolve() == path.resolve():
            self.rendered = self.workdir / f"rendered-{path.name}"
        self.message_file = self.workdir / "messages.log"
        self.error_file = self.workdir / "errors.log"
        self.screen_file = self.workdir / "screen.log"
        self.stderr_file = self.workdir / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """host:port of the SIP socket."""
        return f"{self.host}:{self.port}"

    @property
    def returncode(self) -> int | None:
        """SIPp's exit status (0: all calls succeeded, 1: some failed, 97: stop_now); None if running."""
        return None if self.proc is None else self.proc.poll()

    def render(self) -> Path:
        """Write the scenario to workdir with each [key] filled in (SIPp wants literal status codes)."""
        text = self.scenario_path.read_text(encoding="latin-1")
        for key, value in self.keys.items():
            if any(bad in value for bad in ('"', "<", "&", "]]>", "\n", "\r")):
                raise ValueError(f"key {key}={value!r}: no quotes, <, &, ]]> or line breaks")
            text = text.replace(f"[{key}]", value)
        self.rendered.write_text(text, encoding="latin-1")
        return self.rendered

    def command(self) -> list[str]:
        """The sipp command line for the current ports."""
        cmd = ["sipp", "-sf", str(self.rendered), *([self.remote] if self.remote else [])]
        cmd += ["-i", self.host, "-p", str(self.port), "-bind_local", "-t", self.transport[0] + "1"]
        cmd += ["-mi", self.host, "-mp", str(self.media_port), "-ci", self.host, "-nostdin"]
        cmd += ["-trace_msg", "-message_file", str(self.message_file)]
        cmd += ["-trace_err", "-error_file", str(self.error_file)]
        for key, value in self.keys.items():
            cmd += ["-key", key, value]
        return cmd + (["-m", str(self.max_calls)] if self.max_calls is not None else []) + self.extra_args

    def start(self, timeout: float = 10.0) -> SippPeer:
        """Start SIPp; return once its SIP and RTP sockets are bound, else PeerError with its stderr."""
        if shutil.which("sipp") is None:
            raise PeerError("sipp is not installed (Debian package sip-tester)")
        self.render()
        kind = "udp" if self.transport == "udp" else "tcp"
        for attempt in range(3):  # another process may take a chosen port before SIPp binds it
            self.port = self._fixed_port or free_port(kind)
            self.media_port = self._fixed_media or free_media_port()
            with self.screen_file.open("wb") as out, self.stderr_file.open("wb") as err:
                self.proc = subprocess.Popen(
                    self.command(),
                    cwd=self.workdir,
                    env=os.environ | {"TZ": "UTC"},  # trace stamps in UTC: no time zone or DST guesswork
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                )
            want = {(kind, self.port), ("udp", self.media_port)}
            try:
                wait_until(lambda: self._bound(want), timeout, f"sipp on {self.uri}")
                return self
            except PeerError as exc:
                self.stop()
                message = f"sipp failed to start ({exc}): {' '.join(self.command())}\n{self.stderr()}"
                if "bind" not in self.stderr().lower() or attempt == 2 or (self._fixed_port and self._fixed_media):
                    self.cleanup()
                    raise PeerError(message) from None
        raise AssertionError("unreachable")

    def _bound(self, want: set[tuple[str, int]]) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            if self.remote and self.messages():
                return True  # a quick UAC ran its calls and exited before we looked
            raise PeerError(f"exit status {self.proc.returncode}")
        return want <= bound_sockets(self.proc.pid)

    def stop(self, soft: float = 0.2) -> int | None:
        """Stop SIPp: SIGUSR1 (ends when no call is up), SIGTERM, SIGKILL; reap; return its status."""
        if self.proc is None:
            return None
        return stop_process(self.proc, [(signal.SIGUSR1, soft), (signal.SIGTERM, 3.0)])

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for SIPp to exit by itself (a UAC after -m calls) and return its status."""
        assert self.proc is not None, "not started"
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(f"sipp still running after {timeout}s:\n{self.errors()}") from None

    def cleanup(self) -> None:
        """Stop SIPp and remove workdir if this peer made it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SippPeer:
        return self.start() if self.proc is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def stderr(self) -> str:
        """What SIPp wrote to stderr (fatal errors, pcap notes)."""
        return _read(self.stderr_file)

    def errors(self) -> str:
        """SIPp's -trace_err log: unexpected messages, timeouts, aborted calls."""
        return _read(self.error_file)

    def screen(self) -> str:
        """SIPp's final statistics screen (it writes it to stdout on exit)."""
        return _read(self.screen_file)

    def messages(self) -> list[SipMessage]:
        """Every SIP message SIPp has sent or received so far, in order."""
        return parse_messages(_read(self.message_file))

    def received(self, method: str | None = None) -> list[SipMessage]:
        """Messages SIPp received; only requests of method if given."""
        return [m for m in self.messages() if m.direction == "received" and method in (None, m.method)]

    def sent(self, status: int | None = None) -> list[SipMessage]:
        """Messages SIPp sent; only responses with status if given."""
        return [m for m in self.messages() if m.direction == "sent" and status in (None, m.status)]

    def wait_for(self, predicate: Callable[[SipMessage], bool], timeout: float = 5.0) -> SipMessage:
        """The first traced message satisfying predicate, polling until timeout (PeerError)."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.returncode is not None  # read before the trace: nothing can follow an exit
            match = next((m for m in self.messages() if predicate(m)), None)
            if match is not None:
                return match
            if exited:
                raise PeerError(f"sipp exited ({self.returncode}) without such a message")
            if time.monotonic() > deadline:
                raise PeerError(f"timed out after {timeout:.1f}s waiting for a SIP message")
            time.sleep(0.005)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("latin-1")  # keep CRLF: SIPp's byte counts include it
    except FileNotFoundError:
        return ""


class GarbagePeer(socketserver.UDPServer):
    """A "trunk" on 127.0.0.1 UDP that answers every datagram with bytes that are not SIP."""

    def __init__(self, reply: bytes = b"\x00\xff\x07 this is not SIP \x00\r\n\r\n", port: int = 0) -> None:
        super().__init__((HOST, port), self._answer)  # bound from here on
        self.reply, self.host = reply, HOST
        self.port = int(self.server_address[1])
        self.received: list[bytes] = []
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def uri(self) -> str:
        """host:port of the socket."""
        return f"{self.host}:{self.port}"

    def _answer(self, request: tuple[bytes, socket.socket], client: tuple[str, int], server: object) -> None:
        self.received.append(request[0])
        request[1].sendto(self.reply, client)

    def start(self) -> GarbagePeer:
        """Start answering in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the socket."""
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join()
        self.server_close()

    def __enter__(self) -> GarbagePeer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
