"""SIP messages as SIPp traces them: the SipMessage record and the -trace_msg parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

# SIPp 3.6.1 src/socket.cpp writes "---…--- <localtime(), µs>\nUDP message received [N] bytes :\n\n"
# or "…\nTCP message sent (N bytes):\n\n", then the message as on the wire, then "\n".
_HEAD = re.compile(
    r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})\n(\w+) (?:control )?message "
    r"(?:(received) \[(\d+)\] bytes :|(sent) \((\d+) bytes\):)\n\n",
    re.MULTILINE,
)
_BLANK_LINE = re.compile(r"\r?\n\r?\n")
_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}


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
