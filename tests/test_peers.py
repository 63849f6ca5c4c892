"""Tests of the real SIP peers themselves: SIPp scenarios, the trace parser, Kamailio."""

from __future__ import annotations

import calendar
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from softphone.kamailio import KamailioRegistrar
from softphone.sipp import (
    SCENARIO_DIR,
    GarbagePeer,
    PeerError,
    SipMessage,
    SippPeer,
    free_port,
    parse_messages,
)

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
)


class MiniUac:
    """A bare UDP SIP caller, so each step on the wire is explicit in the test."""

    def __init__(self, peer: SippPeer, from_user: str = "alice") -> None:
        self.target = (peer.host, peer.port)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.from_user = from_user
        self.call_id = uuid.uuid4().hex
        self.tag = uuid.uuid4().hex[:8]
        self.branch = "z9hG4bK" + uuid.uuid4().hex[:12]
        self.to_tag = ""

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()

    def request(self, method: str, cseq: int, branch: str | None = None, body: str = "") -> None:
        host, port = self.target
        local = self.sip.getsockname()[1]
        to_tag = f";tag={self.to_tag}" if self.to_tag and method not in ("CANCEL",) else ""
        lines = [
            f"{method} sip:debtor@{host}:{port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch={branch or self.branch}",
            f'From: "{self.from_user}" <sip:{self.from_user}@127.0.0.1>;tag={self.tag}',
            f"To: <sip:debtor@{host}:{port}>{to_tag}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{self.from_user}@127.0.0.1:{local}>",
            "Max-Forwards: 70",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.target)

    def invite(self) -> None:
        self.request("INVITE", 1, body=SDP.format(port=self.rtp.getsockname()[1]))

    def ack_failure(self) -> None:
        """ACK of a non-2xx final response: same branch as the INVITE (RFC 3261 17.1.1.3)."""
        self.request("ACK", 1)

    def receive(self, timeout: float = 5.0) -> str:
        self.sip.settimeout(timeout)
        text = self.sip.recvfrom(65535)[0].decode("latin-1")
        if match := re.search(r"^To:.*;tag=([^;\s]+)", text, re.MULTILINE):
            self.to_tag = match.group(1)
        return text

    def receive_until(self, first_line: str, timeout: float = 5.0) -> list[str]:
        """Messages received up to and including the one whose first line starts with first_line."""
        got = [self.receive(timeout)]
        while not got[-1].startswith(first_line):
            got.append(self.receive(timeout))
        return got


@pytest.fixture
def uac_factory() -> Iterator[list[MiniUac]]:
    made: list[MiniUac] = []
    yield made
    for uac in made:
        uac.close()


def make_uac(made: list[MiniUac], peer: SippPeer, from_user: str = "alice") -> MiniUac:
    uac = MiniUac(peer, from_user)
    made.append(uac)
    return uac


def first_line(message: str) -> str:
    return message.split("\r\n", 1)[0]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_answer_scenario_answers_a_sipp_caller(transport: str) -> None:
    with SippPeer("answer", transport=transport, keys={"ring_ms": 50}) as uas:
        with SippPeer("call_uac", remote=uas.uri, transport=transport, max_calls=1, keys={"hold_ms": 100}) as uac:
            assert uac.wait(15) == 0, uac.errors()
        assert [m.method or m.status for m in uas.messages()] == ["INVITE", 100, 180, 200, "ACK", "BYE", 200]
        ok = uas.sent(200)[0]
        assert ok.header("content-type") == "application/sdp"
        assert f"m=audio {uas.media_port} RTP/AVP 8\r\n" in ok.body
        assert "a=rtpmap:8 PCMA/8000" in ok.body
        assert all(m.transport == transport.upper() for m in uas.messages())


@pytest.mark.parametrize(
    ("pcap", "payload_type"),
    [(None, 8), ("/usr/share/sip-tester/dtmf_2833_1.pcap", 101)],  # PCMA, or RFC 4733 events
)
def test_answer_plays_the_pcap_and_hangs_up_itself(
    pcap: str | None, payload_type: int, uac_factory: list[MiniUac]
) -> None:
    keys: dict[str, str | int] = {"ring_ms": 0, "hangup_ms": 300} | ({"pcap": pcap} if pcap else {})
    with SippPeer("answer", keys=keys) as uas:
        uac = make_uac(uac_factory, uas)
        uac.invite()
        replies = uac.receive_until("SIP/2.0 200")
        assert [first_line(r) for r in replies] == ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"]
        uac.request("ACK", 1, branch="z9hG4bK" + uuid.uuid4().hex)
        uac.rtp.settimeout(5)
        packet = uac.rtp.recv(2048)
        assert (packet[0] >> 6, packet[1] & 0x7F) == (2, payload_type)  # RTP version 2
        bye = uac.receive_until("BYE ")[-1]
        echo = [line for line in bye.split("\r\n") if line.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
        reply = "SIP/2.0 200 OK\r\n" + "\r\n".join(echo) + "\r\nContent-Length: 0\r\n\r\n"
        uac.sip.sendto(reply.encode(), uac.target)
        uas.wait_for(lambda m: m.direction == "received" and m.status == 200 and m.cseq_method == "BYE")
        assert uas.sent()[-1].method == "BYE"
        assert f"{uas.host}:{uac.sip.getsockname()[1]}" in uas.sent()[-1].first_line


@pytest.mark.parametrize("scenario", ["answer", "ring"])
def test_cancel_while_ringing_gets_200_and_487(scenario: str, uac_factory: list[MiniUac]) -> None:
    with SippPeer(scenario, keys={"ring_ms": 10000} if scenario == "answer" else None) as uas:
        uac = make_uac(uac_factory, uas)
        uac.invite()
        uac.receive_until("SIP/2.0 180")
        uac.request("CANCEL", 1)
        replies = [first_line(r) for r in uac.receive_until("SIP/2.0 487")]
        assert replies[-2:] == ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]
        uac.ack_failure()
        ack = uas.wait_for(lambda m: m.method == "ACK")
        assert ack.header("cseq") == "1 ACK"
        assert uas.sent(487)[0].header("cseq") == "1 INVITE"
        assert uas.sent(200)[0].header("cseq") == "1 CANCEL"
        assert uas.errors() == ""


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (404, "Not Found"),
        (410, "Gone"),
        (486, "Busy Here"),
        (503, "Service Unavailable"),
        (600, "Busy Everywhere"),
        (603, "Decline"),
    ],
)
def test_reject_sends_the_code_and_reason_from_keys(code: int, reason: str, uac_factory: list[MiniUac]) -> None:
    with SippPeer("reject", keys={"code": code, "reason": reason}) as uas:
        uac = make_uac(uac_factory, uas)
        uac.invite()
        replies = [first_line(r) for r in uac.receive_until(f"SIP/2.0 {code}")]
        assert replies == ["SIP/2.0 100 Trying", f"SIP/2.0 {code} {reason}"]
        uac.ack_failure()
        uas.wait_for(lambda m: m.method == "ACK")
        assert uas.errors() == ""


def test_reject_can_ring_first(uac_factory: list[MiniUac]) -> None:
    with SippPeer("reject", keys={"code": 480, "reason": "Temporarily Unavailable", "ring_ms": 100}) as uas:
        uac = make_uac(uac_factory, uas)
        uac.invite()
        replies = [first_line(r) for r in uac.receive_until("SIP/2.0 480")]
        assert replies == ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 480 Temporarily Unavailable"]
        uac.ack_failure()
        uas.wait_for(lambda m: m.method == "ACK")


def test_anonymous_reject_433_then_answers_with_caller_id(uac_factory: list[MiniUac]) -> None:
    with SippPeer("anonymous_reject", keys={"ring_ms": 0}) as uas:
        withheld = make_uac(uac_factory, uas, from_user="Anonymous")
        withheld.invite()
        assert first_line(withheld.receive_until("SIP/2.0 433")[-1]) == "SIP/2.0 433 Anonymity Disallowed"
        withheld.ack_failure()
        shown = make_uac(uac_factory, uas, from_user="alice")
        shown.invite()
        assert first_line(shown.receive_until("SIP/2.0 200")[-1]) == "SIP/2.0 200 OK"
        assert [m.header("from") for m in uas.received("INVITE")] == [
            f'"Anonymous" <sip:Anonymous@127.0.0.1>;tag={withheld.tag}',
            f'"alice" <sip:alice@127.0.0.1>;tag={shown.tag}',
        ]


def test_agent_answers_at_once_and_stays_up(uac_factory: list[MiniUac]) -> None:
    with SippPeer("agent") as uas:
        uac = make_uac(uac_factory, uas)
        uac.invite()
        uac.receive_until("SIP/2.0 200")
        uac.request("ACK", 1, branch="z9hG4bK" + uuid.uuid4().hex)
        uac.request("BYE", 2, branch="z9hG4bK" + uuid.uuid4().hex)
        assert first_line(uac.receive_until("SIP/2.0 200")[-1]) == "SIP/2.0 200 OK"
        uas.wait_for(lambda m: m.direction == "sent" and m.cseq_method == "BYE")  # traced after sending


def test_trace_timestamps_are_wall_clock_with_microseconds(uac_factory: list[MiniUac]) -> None:
    with SippPeer("reject") as uas:
        uac = make_uac(uac_factory, uas)
        before = time.time()
        uac.invite()
        invite = uas.wait_for(lambda m: m.method == "INVITE")
        assert before - 0.001 <= invite.timestamp < before + 0.5
        stamps = re.findall(r"^-+ \S+ \d\d:\d\d:\d\d\.(\d+)$", uas.message_file.read_text(), re.MULTILINE)
        assert stamps and all(len(fraction) == 6 for fraction in stamps)


def trace_entry(stamp: str, transport: str, direction: str, message: str) -> str:
    size = len(message.encode())
    counted = f"received [{size}] bytes :" if direction == "received" else f"sent ({size} bytes):"
    return f"----------------------------------------------- {stamp}\n{transport} message {counted}\n\n{message}\n"


def test_parse_messages_reads_the_sipp_3_6_trace_format() -> None:
    invite_text = (
        "INVITE sip:bob@127.0.0.1:5070 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-2\r\n"
        "VIA: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1\r\n"
        "Call-ID: abc\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n"
    )
    trace = (
        trace_entry("2026-01-02 03:04:05.123456", "UDP", "received", invite_text)
        + "-----------------------------------------------\nUnexpected UDP message received:\n\nBYE x\n"
        + trace_entry("2026-01-02 03:04:05.200001", "TCP", "sent", "SIP/2.0 100 Trying\r\nCall-ID: abc\r\n\r\n")
        + trace_entry("2026-01-02 03:04:06.000000", "UDP", "sent", "SIP/2.0 200 OK\r\nVia: x\r\n\r\n")[:-30]
    )
    messages = parse_messages(trace)
    assert len(messages) == 2  # the last one is still being written
    invite, trying = messages
    assert (invite.direction, invite.method, invite.status, invite.transport) == ("received", "INVITE", None, "UDP")
    assert invite.headers["via"] == [
        "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-2",
        "SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1",
    ]
    assert (invite.call_id, invite.cseq_method, invite.body) == ("abc", "INVITE", "v=0\n")
    assert (trying.direction, trying.status, trying.transport, trying.body) == ("sent", 100, "TCP", "")
    expected = calendar.timegm(time.strptime("2026-01-02 03:04:05", "%Y-%m-%d %H:%M:%S")) + 0.123456
    assert invite.timestamp == pytest.approx(expected, abs=1e-6)  # SippPeer runs SIPp with TZ=UTC
    assert trying.timestamp - invite.timestamp == pytest.approx(0.076545, abs=1e-6)
    assert isinstance(invite, SipMessage)


def test_wait_for_times_out() -> None:
    with SippPeer("reject") as uas, pytest.raises(PeerError, match="timed out"):
        uas.wait_for(lambda m: True, timeout=0.2)


def test_bad_scenario_fails_with_sipps_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text((SCENARIO_DIR / "reject.xml").read_text().replace("[reason]", "[no_such_key]"))
    peer = SippPeer(broken, keys={"code": 486, "ring_ms": 0})
    with pytest.raises(PeerError, match="Unsupported keyword 'no_such_key'"):
        peer.start()
    assert not peer.workdir.exists()


def test_stop_reaps_and_ports_are_released() -> None:
    peer = SippPeer("answer").start()
    pid_port = peer.port
    assert peer.returncode is None
    peer.cleanup()
    assert peer.returncode is not None
    assert not peer.workdir.exists()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", pid_port))


def test_free_port_is_bindable() -> None:
    for kind, sock_type in (("udp", socket.SOCK_DGRAM), ("tcp", socket.SOCK_STREAM)):
        with socket.socket(socket.AF_INET, sock_type) as sock:
            sock.bind(("127.0.0.1", free_port(kind)))


def test_garbage_peer_answers_non_sip() -> None:
    with GarbagePeer() as trunk, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n\r\n", (trunk.host, trunk.port))
        reply = sock.recv(2048)
        assert not reply.startswith(b"SIP/2.0")
        assert trunk.received == [b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n\r\n"]


@pytest.fixture(scope="module")
def registrar() -> Iterator[KamailioRegistrar]:
    with KamailioRegistrar("alice", "s3cret") as kamailio:
        yield kamailio


@pytest.mark.parametrize(("password", "status"), [("s3cret", 0), ("wrong", 97)])
def test_kamailio_registration_challenge(registrar: KamailioRegistrar, password: str, status: int) -> None:
    args = ["-au", "alice", "-ap", password]
    with SippPeer("register_uac", remote=registrar.uri, max_calls=1, extra_args=args) as uac:
        assert uac.wait(10) == status
        statuses = [m.status for m in uac.received()]
    assert statuses == ([401, 200] if status == 0 else [401, 401])


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("hangs_up", ["caller", "callee"])
def test_call_through_kamailio_is_challenged_and_relayed(transport: str, hangs_up: str) -> None:
    caller_hold, callee_hold = (100, 10000) if hangs_up == "caller" else (10000, 100)
    callee = SippPeer("answer", transport=transport, keys={"ring_ms": 0, "hangup_ms": callee_hold})
    with callee as uas, KamailioRegistrar("alice", "s3cret", downstream=uas.uri, downstream_transport=transport) as kam:
        args = ["-au", "alice", "-ap", "s3cret", "-s", "debtor"]
        keys = {"hold_ms": caller_hold}
        with SippPeer("call_uac", remote=kam.uri, transport=transport, max_calls=1, keys=keys, extra_args=args) as uac:
            assert uac.wait(15) == 0, uac.errors()
            assert [m.status for m in uac.received()][0] == 407
        invite = uas.received("INVITE")[0]
        assert invite.first_line == f"INVITE sip:debtor@{kam.uri} SIP/2.0"
        assert (invite.header("record-route") or "").startswith(f"<sip:{kam.uri}")
        assert "proxy-authorization" not in invite.headers  # consumed by the proxy
        bye = uas.wait_for(lambda m: m.method == "BYE")
        assert bye.direction == ("received" if hangs_up == "caller" else "sent")
        assert uas.wait_for(lambda m: m.status == 200 and m.cseq_method == "BYE")


def test_kamailio_start_failure_reports_its_log() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        registrar = KamailioRegistrar(port=taken.getsockname()[1])
        with pytest.raises(PeerError, match="Address already in use"):
            registrar.start()
    assert registrar.proc is not None and registrar.proc.returncode is not None
    assert not registrar.workdir.exists()
