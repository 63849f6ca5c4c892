"""What the trunk really receives: From, Privacy and P-Asserted-Identity in the INVITE."""

from __future__ import annotations

import asyncio

from softphone.sipp import SippPeer
from tests.conftest import CALLER_ID, DEBTOR, MakeWorker


async def invite_for(make_worker: MakeWorker, *, withhold: bool, scenario: str = "answer"):
    with SippPeer(scenario, keys={"code": 486, "reason": "Busy Here"} if scenario == "reject" else None) as peer:
        worker = await make_worker(peer.uri)
        handle = await worker.dial(DEBTOR, withhold=withhold, hangup_after_s=0.3, record=False)
        result = await asyncio.wait_for(handle.result(), 30)
        invite = peer.wait_for(lambda m: m.method == "INVITE" and m.call_id == result.sip_call_id, timeout=5)
    return invite, result, peer


async def test_presented_caller_id_is_in_from_and_pai(make_worker: MakeWorker) -> None:
    invite, result, peer = await invite_for(make_worker, withhold=False)
    assert f"<sip:{CALLER_ID}@127.0.0.1>" in invite.header("From")
    assert invite.header("P-Asserted-Identity") == f"<sip:{CALLER_ID}@127.0.0.1>"
    assert invite.header("Privacy") is None
    assert invite.first_line == f"INVITE sip:{DEBTOR}@{peer.uri} SIP/2.0"


async def test_withheld_caller_id_is_anonymous_with_privacy_id(make_worker: MakeWorker) -> None:
    invite, result, _ = await invite_for(make_worker, withhold=True)
    assert invite.header("From").startswith('"Anonymous" <sip:anonymous@anonymous.invalid>')
    assert invite.header("Privacy") == "id"
    # RFC 3325: the trunk still learns who calls; never any other number.
    assert invite.header("P-Asserted-Identity") == f"<sip:{CALLER_ID}@127.0.0.1>"
    assert CALLER_ID not in invite.header("From")
    assert result.outcome == "answered"


async def test_anonymous_call_to_a_line_that_refuses_them_gets_433_then_shown_id_gets_through(
        make_worker: MakeWorker) -> None:
    with SippPeer("anonymous_reject") as peer:
        worker = await make_worker(peer.uri)
        first = await asyncio.wait_for((await worker.dial(DEBTOR, withhold=True)).result(), 30)
        second = await asyncio.wait_for(
            (await worker.dial(DEBTOR, withhold=False, hangup_after_s=0.5, record=False)).result(), 30)
    assert (first.outcome, first.sip_code) == ("anonymity_rejected", 433)
    assert second.outcome == "answered"
