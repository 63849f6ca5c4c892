"""Real SIP peers for tests, the demo and benchmarks: SIPp scenarios as child processes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

SCENARIO_DIR = Path(__file__).with_name("scenarios")
SIPP_BINARY = "sipp"
DEFAULT_PCAP = "/usr/share/sip-tester/g711a.pcap"
HOST = "127.0.0.1"

# SIPp refuses to load a scenario that uses a [key] not given with -key: defaults per scenario.
DEFAULT_KEYS: dict[str, dict[str, str]] = {
    "answer": {"pcap": DEFAULT_PCAP, "ring_ms": "200", "hangup_ms": "37000"},
    "anonymous_reject": {"pcap": DEFAULT_PCAP, "ring_ms": "200", "hangup_ms": "37000"},
    "agent": {"pcap": DEFAULT_PCAP, "hangup_ms": "600000"},
    "reject": {"code": "486", "reason": "Busy Here", "ring_ms": "0"},
    "ring": {"ring_timeout_ms": "120000"},
    "call_uac": {"hold_ms": "1000", "user": "callee"},
    "cancel_uac": {"cancel_ms": "300", "user": "callee"},
    "register_uac": {"user": "alice", "expires": "60"},
}

# SIPp 3.6.1 (src/socket.cpp): "----- <local time, µs>\nUDP message received [N] bytes :\n\n<msg>\n"
# and "----- <local time, µs>\nUDP message sent (N bytes):\n\n<msg>\n".
_MESSAGE_HEAD = re.compile(
    r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})\n(\w+) (?:control )?message "
    r"(?:(received) \[(\d+)\] bytes :|(sent) \((\d+) bytes\):)\n\n",
    re.MULTILINE,
)


class PeerError(RuntimeError):
    """A SIP peer process failed to start or behaved unexpectedly."""


@dataclass(frozen=True)
class SipMessage:
    """One SIP message from SIPp's message trace."""

    direction: str
    first_line: str
    headers: dict[str, list[str]]
    body: str
    timestamp: float
    transport: str = "UDP"
    raw: str = field(default="", repr=False, compare=False)

    @property
    def method(self) -> str | None:
        """Request method, or None for a response."""
        return None if self.first_line.startswith("SIP/") else self.first_line.split(" ", 1)[0]

    @property
    def status(self) -> int | None:
        """Response status code, or None for a request."""
        return int(self.first_line.split(" ", 2)[1]) if self.first_line.startswith("SIP/") else None

    @property
    def cseq_method(self) -> str | None:
        """Method named in the CSeq header."""
        cseq = self.header("cseq")
        return cseq.split()[-1] if cseq else None

    @property
    def call_id(self) -> str | None:
        """Call-ID header value."""
        return self.header("call-id")

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive name), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_messages(text: str) -> list[SipMessage]:
    """Parse the text of a SIPp 3.6 `-trace_msg` file into messages."""
    heads = list(_MESSAGE_HEAD.finditer(text))
    messages = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        raw = text[head.end() : end]
        size = int(head.group(4) or head.group(6))
        if len(raw) < size:
            break  # still being written
        stamp = datetime.strptime(head.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        direction = head.group(3) or head.group(5)
        messages.append(_parse_one(raw[:size], direction, stamp, head.group(2)))
    return messages


def _parse_one(raw: str, direction: str, stamp: float, transport: str) -> SipMessage:
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.lstrip("\n").split("\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            last = next(reversed(headers))
            headers[last][-1] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return SipMessage(direction, lines[0].strip(), headers, body, stamp, transport, raw)


def free_port(kind: str = "udp", host: str = HOST) -> int:
    """A port on host that is free for UDP or TCP right now (the kernel's choice)."""
    sock_type = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, sock_type) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_media_port(host: str = HOST) -> int:
    """An even UDP port P with P..P+3 free (SIPp binds P for audio and P+2 for video)."""
    for _ in range(200):
        port = free_port("udp", host) & ~1
        if port < 1024 or port > 65530:
            continue
        socks = []
        try:
            for offset in range(4):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind((host, port + offset))
            return port
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise PeerError("no free media port pair")


def bound_sockets(pid: int) -> set[tuple[str, int]]:
    """(kind, port) of the UDP sockets and listening TCP sockets that process pid holds."""
    try:
        inodes = {
            os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1]
            for fd in os.listdir(f"/proc/{pid}/fd")
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")
        }
    except OSError:
        return set()
    found: set[tuple[str, int]] = set()
    for kind, table in (("udp", "udp"), ("udp", "udp6"), ("tcp", "tcp"), ("tcp", "tcp6")):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            # tcp rows count only in LISTEN (0A); udp "07" is bound/unconnected
            if cols[9] in inodes and (kind == "udp" or cols[3] == "0A"):
                found.add((kind, int(cols[1].rsplit(":", 1)[1], 16)))
    return found


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.01) -> None:
    """Poll predicate until true; raise PeerError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise PeerError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(poll)


def stop_process(proc: subprocess.Popen[bytes], signals: Sequence[tuple[int, float]]) -> int:
    """Send each (signal, grace seconds) in turn until proc exits; SIGKILL last. Reap it."""
    for sig, grace in signals:
        if proc.poll() is not None:
            break
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        proc.kill()
    return proc.wait()


class SippPeer:
    """A SIPp process running one scenario on 127.0.0.1 (UAS, or UAC when remote is given)."""

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
        path = Path(scenario)
        if path.suffix != ".xml":
            path = SCENARIO_DIR / f"{scenario}.xml"
        if not path.is_file():
            raise FileNotFoundError(path)
        self.scenario_path = path
        self.keys = {**DEFAULT_KEYS.get(path.stem, {}), **{k: str(v) for k, v in (keys or {}).items()}}
        self.transport = transport
        self.host = HOST
        self._fixed_port, self._fixed_media = port, media_port
        self.port = port or 0
        self.media_port = media_port or 0
        self.remote = remote
        self.max_calls = max_calls
        self.extra_args = list(extra_args)
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="sipp-"))
        self.message_file = self.workdir / "messages.log"
        self.error_file = self.workdir / "errors.log"
        self.screen_file = self.workdir / "screen.log"
        self.stderr_file = self.workdir / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def uri(self) -> str:
        """host:port of this peer's SIP socket."""
        return f"{self.host}:{self.port}"

    @property
    def returncode(self) -> int | None:
        """SIPp's exit status (0: all calls succeeded, 1: some failed), None while running."""
        return None if self.proc is None else self.proc.poll()

    def command(self) -> list[str]:
        """The sipp command line for the current ports."""
        cmd = [SIPP_BINARY, "-sf", str(self.scenario_path)]
        if self.remote:
            cmd.append(self.remote)
        cmd += ["-i", self.host, "-p", str(self.port), "-bind_local", "-t", "u1" if self.transport == "udp" else "t1"]
        cmd += ["-mi", self.host, "-mp", str(self.media_port), "-ci", self.host, "-nostdin"]
        cmd += ["-trace_msg", "-message_file", str(self.message_file)]
        cmd += ["-trace_err", "-error_file", str(self.error_file)]
        for key, value in self.keys.items():
            cmd += ["-key", key, value]
        if self.max_calls is not None:
            cmd += ["-m", str(self.max_calls)]
        return cmd + self.extra_args

    def start(self, timeout: float = 10.0) -> SippPeer:
        """Start SIPp and wait until its SIP and media sockets are bound."""
        if shutil.which(SIPP_BINARY) is None:
            raise PeerError("sipp not installed (Debian package sip-tester)")
        for attempt in range(3):
            kind = "udp" if self.transport == "udp" else "tcp"
            self.port = self._fixed_port or free_port(kind)
            self.media_port = self._fixed_media or free_media_port()
            with self.screen_file.open("wb") as out, self.stderr_file.open("wb") as err:
                self.proc = subprocess.Popen(
                    self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=err
                )
            want = {(kind, self.port), ("udp", self.media_port)}
            try:
                wait_until(lambda: self._ready(want), timeout, f"sipp on {self.uri}")
                return self
            except PeerError:
                self.stop()
                text = self.stderr()
                if "bind" not in text.lower() or attempt == 2 or self._fixed_port:
                    raise PeerError(f"sipp failed to start ({' '.join(self.command())}):\n{text}") from None
        raise AssertionError("unreachable")

    def _ready(self, want: set[tuple[str, int]]) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise PeerError(f"sipp exited with {self.proc.returncode}")
        return want <= bound_sockets(self.proc.pid)

    def stop(self, grace: float = 1.0) -> int | None:
        """Stop SIPp: SIGUSR1 (soft), then SIGTERM, then SIGKILL; return its exit status."""
        if self.proc is None:
            return None
        return stop_process(self.proc, [(signal.SIGUSR1, grace), (signal.SIGTERM, 3.0)])

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for SIPp to exit by itself (e.g. a UAC after -m calls); return its status."""
        assert self.proc is not None, "not started"
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(f"sipp still running after {timeout}s:\n{self.errors()}") from None

    def cleanup(self) -> None:
        """Stop SIPp and remove its temporary directory if this peer created it."""
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
        """What SIPp wrote to stderr."""
        return _read(self.stderr_file)

    def errors(self) -> str:
        """SIPp's error log (-trace_err): unexpected messages, timeouts, warnings."""
        return _read(self.error_file)

    def screen(self) -> str:
        """SIPp's final statistics screen (written to stdout when it exits)."""
        return _read(self.screen_file)

    def messages(self) -> list[SipMessage]:
        """Every SIP message SIPp has sent or received so far, in trace order."""
        return parse_messages(_read(self.message_file))

    def received(self, method: str | None = None) -> list[SipMessage]:
        """Messages SIPp received; only requests of method if given."""
        return [
            m for m in self.messages() if m.direction == "received" and (method is None or m.method == method)
        ]

    def sent(self, status: int | None = None) -> list[SipMessage]:
        """Messages SIPp sent; only responses with status if given."""
        return [m for m in self.messages() if m.direction == "sent" and (status is None or m.status == status)]

    def wait_for(self, predicate: Callable[[SipMessage], bool], timeout: float = 5.0) -> SipMessage:
        """Wait until a traced message satisfies predicate and return the first such message."""
        found: list[SipMessage] = []

        def check() -> bool:
            found[:] = [m for m in self.messages() if predicate(m)][:1]
            if not found and self.proc is not None and self.proc.poll() is not None:
                found[:] = [m for m in self.messages() if predicate(m)][:1]
                if not found:
                    raise PeerError(f"sipp exited ({self.proc.returncode}) before the message came")
            return bool(found)

        wait_until(check, timeout, "a matching SIP message", poll=0.005)
        return found[0]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="latin-1")
    except FileNotFoundError:
        return ""


class GarbagePeer:
    """A UDP "trunk" on 127.0.0.1 that answers every datagram with non-SIP bytes."""

    def __init__(self, reply: bytes = b"\x00\xffNOT SIP AT ALL\r\n\x07garbage\x00", port: int = 0) -> None:
        self.reply = reply
        self.host = HOST
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((HOST, port))
        self.port = int(self._sock.getsockname()[1])
        self.received: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, name=f"garbage-{self.port}", daemon=True)
        self._stopped = threading.Event()

    @property
    def uri(self) -> str:
        """host:port of the socket."""
        return f"{self.host}:{self.port}"

    def start(self) -> GarbagePeer:
        """Start answering (the socket is bound already)."""
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._sock.settimeout(0.05)
        while not self._stopped.is_set():
            try:
                data, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.append(data)
            try:
                self._sock.sendto(self.reply, addr)
            except OSError:
                pass

    def stop(self) -> None:
        """Stop answering and close the socket."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self._sock.close()

    def __enter__(self) -> GarbagePeer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
