"""Real SIP peers for tests, the demo and benchmarks: SIPp scenarios run as child processes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from types import TracebackType

SCENARIO_DIR = Path(__file__).with_name("scenarios")
DEFAULT_PCAP = "/usr/share/sip-tester/g711a.pcap"
HOST = "127.0.0.1"

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

# SIPp 3.6.1 src/socket.cpp writes "---…--- <localtime(), µs>\nUDP message received [N] bytes :\n\n"
# or "…\nTCP message sent (N bytes):\n\n", then the message as on the wire, then "\n".
_HEAD = re.compile(
    r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})\n(\w+) (?:control )?message "
    r"(?:(received) \[(\d+)\] bytes :|(sent) \((\d+) bytes\):)\n\n",
    re.MULTILINE,
)
_BLANK_LINE = re.compile(r"\r?\n\r?\n")
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}


class PeerError(RuntimeError):
    """A SIP peer process failed to start, exited early, or a wait timed out."""


@dataclass(frozen=True)
class SipMessage:
    """One SIP message from SIPp's message trace; header names are lower-case."""

    direction: str  # "received" | "sent", from SIPp's point of view
    first_line: str
    headers: dict[str, list[str]]
    body: str
    timestamp: float  # epoch seconds (µs resolution), as time.time()
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
        """Method named in the CSeq header (tells which request a response answers)."""
        cseq = self.header("cseq")
        return cseq.split()[-1] if cseq else None

    @property
    def call_id(self) -> str | None:
        """Call-ID header value."""
        return self.header("call-id")

    def header(self, name: str) -> str | None:
        """First value of a header (any case), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_messages(text: str, tz: tzinfo | None = timezone.utc) -> list[SipMessage]:
    """Parse SIPp 3.6's -trace_msg text (stamped in zone tz; None: local); skip a partial last entry."""
    heads = list(_HEAD.finditer(text))
    messages = []
    for i, head in enumerate(heads):
        raw = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        size = int(head.group(4) or head.group(6))
        if len(raw) < size:
            break
        stamp = datetime.strptime(head.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=tz).timestamp()
        messages.append(_parse_one(raw[:size], head.group(3) or head.group(5), stamp, head.group(2)))
    return messages


def _parse_one(raw: str, direction: str, stamp: float, transport: str) -> SipMessage:
    parts = _BLANK_LINE.split(raw.lstrip("\r\n"), maxsplit=1)  # the body is kept byte for byte
    lines = parts[0].replace("\r\n", "\n").split("\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation line
            values = headers[next(reversed(headers))]
            values[-1] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers.setdefault(_COMPACT.get(name, name), []).append(value.strip())
    body = parts[1] if len(parts) > 1 else ""
    return SipMessage(direction, lines[0].strip(), headers, body, stamp, transport, raw)


def free_port(kind: str = "udp", host: str = HOST) -> int:
    """A port on host that is free for UDP or TCP right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_media_port(host: str = HOST) -> int:
    """An even UDP port P with P..P+3 free (SIPp binds P for audio and P+2 for video)."""
    for _ in range(100):
        port = free_port("udp", host) & ~1
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
        try:
            for offset, sock in enumerate(socks):
                sock.bind((host, port + offset))
            return port
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise PeerError("no free media port block")


def bound_sockets(pid: int, group: bool = False) -> set[tuple[str, int]]:
    """("udp"|"tcp", port) of the UDP and listening TCP sockets of pid or its process group."""
    pids = {pid}
    if group:
        pids |= {int(p) for p in os.listdir("/proc") if p.isdigit() and _pgid(p) == pid}
    inodes = set()
    for each in pids:
        try:
            links = [os.readlink(f"/proc/{each}/fd/{fd}") for fd in os.listdir(f"/proc/{each}/fd")]
        except OSError:
            continue
        inodes.update(link[8:-1] for link in links if link.startswith("socket:["))
    found = set()
    for kind, table in (("udp", "udp"), ("udp", "udp6"), ("tcp", "tcp"), ("tcp", "tcp6")):
        path = Path(f"/proc/net/{table}")
        for row in path.read_text().splitlines()[1:] if path.exists() else []:
            cols = row.split()  # a bound UDP socket shows state 07; TCP must be LISTEN (0A)
            if cols[9] in inodes and (kind == "udp" or cols[3] == "0A"):
                found.add((kind, int(cols[1].rsplit(":", 1)[1], 16)))
    return found


def _pgid(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return -1


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.005) -> None:
    """Poll predicate until it is true; raise PeerError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise PeerError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(poll)


def stop_process(proc: subprocess.Popen[bytes], signals: Sequence[tuple[int, float]]) -> int:
    """Send each (signal, grace seconds) until proc exits, then SIGKILL; reap it."""
    for sig, grace in signals:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
    if proc.poll() is None:
        proc.kill()
    return proc.wait()


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
