"""The worker protocol: versioned JSON lines, strict on input."""

from __future__ import annotations

import json

import pytest

from softphone import protocol as P


def test_every_message_round_trips() -> None:
    messages = [
        P.Start(id=1, trunk="127.0.0.1:5060", caller_id="+31201234567"),
        P.Dial(id=2, call="c1", uri="sip:+31612345678@127.0.0.1:5060", withhold=True, hangup_after_s=3.0),
        P.OpenAgentLine(id=3, call="a1", uri="sip:agent@127.0.0.1"),
        P.Hangup(id=4, call="c1"), P.Ping(id=5), P.Shutdown(id=6), P.Hello(version=1, pid=42),
        P.Reply(id=2, ok=False, error="nope"),
        P.CallEvent(call="c1", kind="ended", at=1.5, sip_code=486, sip_reason="Busy Here", code_source="wire",
                    outcome="busy"),
        P.Registration(active=True, code=200, reason="OK"), P.Log(level="warning", text="x"),
    ]
    for msg in messages:
        line = P.encode(msg)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert P.decode(line) == msg


def test_every_line_carries_the_version_and_type() -> None:
    data = json.loads(P.encode(P.Ping(id=7)))
    assert data == {"v": P.PROTOCOL_VERSION, "type": "ping", "id": 7}


@pytest.mark.parametrize("line", [
    b"not json", b"[1,2]", b'{"type":"ping","id":1}', b'{"v":99,"type":"ping","id":1}',
    b'{"v":1,"type":"teleport","id":1}', b'{"v":1,"type":"ping","id":1,"extra":true}',
    b'{"v":1,"type":"dial","id":1}',
])
def test_bad_lines_are_refused_with_a_protocol_error(line: bytes) -> None:
    with pytest.raises(P.ProtocolError):
        P.decode(line)
