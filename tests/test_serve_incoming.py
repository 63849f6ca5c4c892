"""End to end: `belblok serve` takes an incoming SIPp call from a debtor whose agent is busy — a return call today."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.calllog.attempt import Attempt
from dialer.dossiers.parties import Contact, Debtor, Phone
from softphone.sipp import SippPeer
from tests.conftest import stop_process
from tests.test_callbacks_cli import T0, Team, _free_port, write_config

DEBTOR = "+31612345678"  # D-1's contact (Team's debtor)
OTHER = "+31687654321"  # D-2, whom Anna is on the phone with


async def test_a_debtor_calling_while_their_agent_is_busy_gets_a_return_call_today(tmp_path: Path) -> None:
    import aiohttp

    made = Team(tmp_path, f"sqlite:///{tmp_path / 'belblok.db'}")
    web_port, sip_port = _free_port(), _free_port()
    with made.sessions.begin() as session:
        other = Debtor(ref="D-2", name="Garage De Vries", created_at=T0, updated_at=T0)
        other.contacts = [Contact(name="Els de Vries", role="owner", phones=[Phone(number=OTHER, kind="direct")])]
        session.add(other)
        # Anna phoned D-1 before: she owns the dossier, so its return call is hers.
        session.add(Attempt(number=DEBTOR, debtor_ref="D-1", agent="anna", caller_id="+31201234567", state="ended",
                            outcome="no_answer", created_at=T0))
    token_proc = made.cli("token", "create", "anna", "--role", "agent")
    assert token_proc.returncode == 0, token_proc.stderr
    token = token_proc.stdout.strip().splitlines()[-1]
    with SippPeer("answer", keys={"hangup_ms": "60000"}) as line:
        made.config = write_config(tmp_path, made.url, extra=f"[incoming]\nenabled = true\nport = {sip_port}\n")
        made.config.write_text(made.config.read_text().replace('trunk = "127.0.0.1:5060"', f'trunk = "{line.uri}"'))
        serve = subprocess.Popen([str(Path(sys.executable).with_name("belblok")), "--config", str(made.config),
                                  "serve", "--port", str(web_port)], cwd=tmp_path, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env={**os.environ})
        try:
            assert serve.stdout is not None
            ready = await asyncio.wait_for(asyncio.to_thread(serve.stdout.readline), 60)
            assert "ready" in ready, ready
            auth = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(headers=auth) as http, http.ws_connect(
                    f"http://127.0.0.1:{web_port}/ws") as ws:
                assert (await ws.receive_json(timeout=10))["type"] == "hello"
                async with http.post(f"http://127.0.0.1:{web_port}/api/v1/calls",
                                     json={"debtor_ref": "D-2", "number": OTHER}) as response:
                    assert response.status == 201, await response.text()
                while (await ws.receive_json(timeout=30)).get("kind") != "answered":
                    pass  # Anna is now talking to D-2
                with SippPeer("call_uac", remote=f"127.0.0.1:{sip_port}", max_calls=1,
                              keys={"user": DEBTOR, "hold_ms": "1000"}, extra_args=["-s", "team"]) as debtor:
                    assert await asyncio.to_thread(debtor.wait, 60) == 0, debtor.errors()
                    answered = debtor.received()
                while True:  # the return call lands at the head of Anna's queue
                    message = await ws.receive_json(timeout=30)
                    if message.get("kind") == "callback_due":
                        break
        finally:
            stop_process(serve)
    assert any(m.status == 200 and m.cseq_method == "INVITE" for m in answered)  # answered by the message
    [row] = [c for c in made.json("callback", "list", "--json") if c["debtor"] == "D-1"]
    assert (row["kind"], row["agent"]) == ("return", "anna")
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    assert datetime.fromisoformat(row["due"]).astimezone(ZoneInfo("Europe/Amsterdam")).date() == today
    assert message["detail"]["callback_id"] == row["id"]
    made.close()


def test_serve_with_a_missing_greeting_stops_before_starting_and_says_what_to_do(tmp_path: Path) -> None:
    made = Team(tmp_path, f"sqlite:///{tmp_path / 'belblok.db'}")
    made.config = write_config(tmp_path, made.url, extra='[incoming]\nenabled = true\ngreeting = "nope.wav"\n')
    proc = made.cli("serve", "--port", str(_free_port()))
    made.close()
    assert proc.returncode == 2, proc.stderr
    assert "[incoming] greeting: no WAV file at nope.wav" in proc.stderr and "Traceback" not in proc.stderr
    assert "ready" not in proc.stdout
