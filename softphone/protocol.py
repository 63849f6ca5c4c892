"""The coordinator ⇄ worker message protocol: versioned JSON lines (see docs/protocol.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

PROTOCOL_VERSION = 1


class ProtocolError(ValueError):
    """A line that is not a valid message of this protocol version."""


@dataclass
class Message:
    """Base of every message; `type` names the concrete class on the wire."""

    type: ClassVar[str] = ""


_REGISTRY: dict[str, type[Message]] = {}


def message(cls: type[Message]) -> type[Message]:
    """Register a message class under its `type` name."""
    _REGISTRY[cls.type] = cls
    return cls


# -- coordinator → worker ---------------------------------------------------


@message
@dataclass
class Start(Message):
    """Bring up the SIP stack: transport, account, optional registration."""

    type: ClassVar[str] = "start"
    id: int
    trunk: str  # host:port every INVITE goes to
    transport: str = "udp"
    local_port: int = 0
    caller_id: str = ""
    username: str | None = None
    password: str | None = None
    registrar: str | None = None  # host:port; registration only when set
    realm: str = "*"
    no_response_timeout_s: float = 4.0
    recording_dir: str = "var/recordings"
    name: str = "worker"
    incoming: str = "reject"  # reject (480) | answer (greet and record what is heard) | ask (ring; a Route decides)
    greeting: str | None = None  # WAV played to answered incoming calls
    greeting_loop: bool = False
    ask_timeout_s: float = 5.0  # ask: with no Route by then, greet (or 480 without a greeting)
    clock_rate: int = 16000  # the conference bridge's (and so the recordings') sample rate, Hz
    rtp_ports: list[int] = field(default_factory=lambda: [16384, 32767])  # first and last UDP port, RTP and RTCP


@message
@dataclass
class Dial(Message):
    """Place one call to `uri`; events for it carry `call`."""

    type: ClassVar[str] = "dial"
    id: int
    call: str
    uri: str
    withhold: bool = False
    ring_timeout_s: float = 30.0
    hangup_after_s: float | None = None
    record: bool = True  # record from answer; False: only if a RecordStart comes
    bridge: bool = True  # bridge onto the agent line when one is up
    announcement: str | None = None  # WAV played to the debtor on answer


@message
@dataclass
class OpenAgentLine(Message):
    """Call the agent's own phone and keep the call up for bridging."""

    type: ClassVar[str] = "agent_line"
    id: int
    call: str
    uri: str
    ring_timeout_s: float = 30.0


@message
@dataclass
class Hangup(Message):
    """End a call (CANCEL before answer, BYE after)."""

    type: ClassVar[str] = "hangup"
    id: int
    call: str


@message
@dataclass
class RecordStart(Message):
    """Start recording a live call now (on-demand recording)."""

    type: ClassVar[str] = "record_start"
    id: int
    call: str


@message
@dataclass
class Route(Message):
    """What to do with an incoming call held ringing (incoming = "ask")."""

    type: ClassVar[str] = "route"
    id: int
    call: str
    action: str  # greet | reject | bridge (onto the agent line) | forward (to `uri`, then bridge)
    code: int = 480  # reject: the final response
    record: bool = False  # bridge: record it like a debtor call
    announcement: str | None = None  # bridge: WAV played to the caller on answer
    uri: str | None = None  # forward: where to
    headers: dict[str, str] = field(default_factory=dict)  # forward: extra INVITE headers
    ring_timeout_s: float = 20.0  # forward: give up (and greet) after this long


MONITOR_MODES = ("listen", "whisper", "barge")


@message
@dataclass
class Monitor(Message):
    """Join a supervisor's phone to live bridged call `call`, or change how it is joined (see MONITOR_MODES)."""

    type: ClassVar[str] = "monitor"
    id: int
    call: str  # the debtor (or bridged incoming) call; the supervisor's leg is f"{call}.monitor"
    uri: str  # the supervisor's own phone
    mode: str = "listen"  # listen: hears both | whisper: the agent hears them too | barge: all three talk
    ring_timeout_s: float = 30.0


@message
@dataclass
class Ping(Message):
    """Liveness probe; answered with a Reply."""

    type: ClassVar[str] = "ping"
    id: int


@message
@dataclass
class Shutdown(Message):
    """Hang up everything, destroy the stack and exit."""

    type: ClassVar[str] = "shutdown"
    id: int


# -- worker → coordinator ---------------------------------------------------


@message
@dataclass
class Hello(Message):
    """First line a worker prints: its protocol version and pid."""

    type: ClassVar[str] = "hello"
    version: int
    pid: int


@message
@dataclass
class Reply(Message):
    """Answer to the command with the same `id`."""

    type: ClassVar[str] = "reply"
    id: int
    ok: bool
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@message
@dataclass
class CallEvent(Message):
    """A call changed state; `at` is the worker's wall-clock time (epoch seconds)."""

    type: ClassVar[str] = "call"
    call: str
    # incoming | calling | ringing | answered | forwarded | forward_failed | recording_started | ended | recording
    kind: str
    at: float
    sip_code: int | None = None
    sip_reason: str | None = None
    code_source: str | None = None
    outcome: str | None = None
    sip_call_id: str | None = None
    recording: str | None = None
    remote: str | None = None  # the other party's URI (incoming calls)
    transfer: str | None = None  # incoming: the X-Belblok-Transfer header, set by a worker that forwarded it
    media: dict[str, float] | None = None  # ended: the audio stream's RTP figures (softphone/streamstats.py)


@message
@dataclass
class Registration(Message):
    """The account's registration state changed."""

    type: ClassVar[str] = "registration"
    active: bool
    code: int
    reason: str


@message
@dataclass
class Log(Message):
    """A log record from the worker, for the coordinator's log."""

    type: ClassVar[str] = "log"
    level: str
    text: str


def encode(msg: Message) -> bytes:
    """One message as one JSON line."""
    body = {"v": PROTOCOL_VERSION, "type": msg.type, **asdict(msg)}
    return (json.dumps(body, separators=(",", ":")) + "\n").encode()


def decode(line: bytes | str) -> Message:
    """Parse one JSON line into its message class."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {line[:80]!r}") from exc
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object")
    if data.pop("v", None) != PROTOCOL_VERSION:
        raise ProtocolError(f"unsupported protocol version in {line[:80]!r}")
    cls = _REGISTRY.get(str(data.pop("type", "")))
    if cls is None:
        raise ProtocolError(f"unknown message type in {line[:80]!r}")
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ProtocolError(f"{cls.type}: unknown fields {sorted(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise ProtocolError(f"{cls.type}: {exc}") from exc
