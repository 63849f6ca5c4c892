"""A worker that dies mid-call costs that call only: logged `interrupted`, worker restarted."""

from __future__ import annotations

import asyncio
import os
import signal

from dialer.calllog.journal import CallLog
from dialer.calls.telephony import DialRequest, Telephony
from dialer.settings.config import parse
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR


def config_for(trunk: str, tmp_path) -> object:
    return parse(f"""
[sip]
trunk = "{trunk}"
caller_id = "+31201234567"
response_timeout_s = 2
[recording]
dir = "{tmp_path / 'rec'}"
""")


async def wait_until(predicate, timeout: float = 30.0) -> None:
    """Poll an in-process condition until it holds (the event loop runs meanwhile)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_kill_9_mid_call_marks_the_attempt_interrupted_and_the_worker_comes_back(
        calllog: CallLog, tmp_path) -> None:
    with SippPeer("answer") as peer:
        phone = Telephony(config_for(peer.uri, tmp_path), calllog, name="crashy")
        await phone.start()
        try:
            handle, attempt_id = await phone.dial(DialRequest(number=DEBTOR, hangup_after_s=60))
            follower = asyncio.ensure_future(phone.follow(handle, attempt_id))
            await wait_until(lambda: handle.state == "answered")
            await wait_until(lambda: calllog.get(attempt_id).state == "answered")
            old_pid = phone.worker.pid
            os.kill(old_pid, signal.SIGKILL)
            await asyncio.wait_for(follower, 30)
            attempt = calllog.get(attempt_id)
            assert attempt.state == "ended"
            assert attempt.outcome == "interrupted"
            assert attempt.sip_code_source == "local"
            assert "SIGKILL" in (attempt.sip_reason or "")
            await wait_until(lambda: phone.worker.pid not in (None, old_pid) and phone.worker.restarts == 1)
            # The coordinator lives on and the new worker places calls.
            second = await phone.place(DialRequest(number=DEBTOR, hangup_after_s=0.5))
            assert calllog.get(second).outcome == "answered"
        finally:
            await phone.stop()


async def test_the_attempt_row_exists_before_the_invite_leaves(calllog: CallLog, tmp_path) -> None:
    with SippPeer("answer") as peer:
        async with Telephony(config_for(peer.uri, tmp_path), calllog) as phone:
            handle, attempt_id = await phone.dial(DialRequest(number=DEBTOR, hangup_after_s=0.5))
            invite = peer.wait_for(lambda m: m.method == "INVITE", timeout=10)
            row = calllog.get(attempt_id)
            assert row.created_at.timestamp() <= invite.timestamp
            await phone.follow(handle, attempt_id)
    row = calllog.get(attempt_id)
    assert row.outcome == "answered" and row.sip_call_id == invite.call_id
    assert row.worker and row.worker.startswith("worker:")


async def test_attempts_left_open_by_a_dead_coordinator_are_closed_at_start(calllog: CallLog, tmp_path) -> None:
    from datetime import datetime, timezone

    dead = f"{os.uname().nodename}:{2**22 + 12345}"  # above pid_max: no such process
    orphan = calllog.open_attempt(number=DEBTOR, caller_id="+31201234567", caller_id_withheld=False,
                                  at=datetime.now(timezone.utc), coordinator=dead)
    with SippPeer("answer") as peer:
        async with Telephony(config_for(peer.uri, tmp_path), calllog):
            pass
    assert calllog.get(orphan).outcome == "interrupted"
