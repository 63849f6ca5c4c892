"""Each call's RTP figures (packets, loss, late, jitter) and the RTP ports each worker takes."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from softphone.endpoint import rtp_start
from softphone.processes import bound_sockets
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, MakeWorker, make_tone


def test_each_worker_starts_its_rtp_ports_at_an_even_port_of_its_own_inside_the_range() -> None:
    random.seed(7)
    starts = set()
    for _ in range(200):
        start, span = rtp_start((20000, 29999))
        assert start % 2 == 0 and 20000 <= start <= 29999 - 200
        assert start + span == 29999  # pjsua may walk up to the range's end, never past it
        starts.add(start)
    assert len(starts) > 150  # workers on one box rarely start on the same port
    assert rtp_start((20001, 29999))[0] % 2 == 0  # an odd first port: RTP still on an even one


async def test_an_answered_call_reports_what_each_side_received(make_worker: MakeWorker, tmp_path: Path) -> None:
    heard: list = []
    voice = make_tone(tmp_path / "voice.wav", seconds=2)
    peer = await make_worker("127.0.0.1:9", incoming="answer", greeting=str(voice), greeting_loop=True,
                             name="peer", on_incoming=heard.append)
    worker = await make_worker(f"127.0.0.1:{peer.local_port}")
    result = await asyncio.wait_for((await worker.dial(DEBTOR, hangup_after_s=2.0)).result(), 30)
    received = await asyncio.wait_for(heard[0].result(), 30)
    assert result.outcome == "answered"
    for media in (result.media, received.media):
        assert media is not None
        # 20 ms G.711 packets for about 2 s, none lost on loopback; jitter well under a packet.
        assert 60 <= media["rx_packets"] <= 160
        assert media["rx_lost"] == 0 and media["rx_late"] == 0
        assert 0 <= media["rx_jitter_ms_mean"] <= media["rx_jitter_ms_max"] < 20
        assert media["tx_packets"] > 60


async def test_a_call_that_never_had_audio_has_no_stream_figures(make_worker: MakeWorker) -> None:
    with SippPeer("reject", keys={"code": 486, "reason": "Busy Here"}) as busy:
        worker = await make_worker(busy.uri)
        result = await asyncio.wait_for((await worker.dial(DEBTOR)).result(), 30)
    assert result.outcome == "busy" and result.media is None


async def test_a_workers_rtp_sockets_lie_in_its_configured_range(make_worker: MakeWorker) -> None:
    ports = (21000, 21400)
    with SippPeer("answer") as debtor:
        worker = await make_worker(debtor.uri, rtp_ports=ports)
        call = await worker.dial(DEBTOR, hangup_after_s=5.0)
        async for event in call.events():
            if event.kind in ("answered", "ended"):
                break
        assert event.kind == "answered"
        assert worker.pid is not None
        udp = {port for kind, port in bound_sockets(worker.pid) if kind == "udp"}
        rtp = {port for port in udp if port != worker.local_port}
        await call.hangup()
        await asyncio.wait_for(call.result(), 30)
    assert rtp and all(ports[0] <= port <= ports[1] for port in rtp), (rtp, ports)
