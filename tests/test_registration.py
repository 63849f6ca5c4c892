"""Trunks that need it: digest-auth registration and challenged INVITEs, against a real Kamailio."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from softphone.client import RegistrationError
from softphone.kamailio import KamailioRegistrar
from softphone.sipp import SippPeer
from tests.conftest import DEBTOR, MakeWorker, run_cli


async def test_registration_with_the_right_password_is_accepted(make_worker: MakeWorker) -> None:
    with KamailioRegistrar("alice", "s3cret") as registrar:
        worker = await make_worker(registrar.uri, username="alice", password="s3cret", registrar=registrar.uri)
        assert worker.registration is not None
        assert (worker.registration.code, worker.registration.active) == (200, True)
        log = registrar.log_text()
    assert "REGISTER" in log


async def test_registration_with_a_wrong_password_fails_clearly(make_worker: MakeWorker) -> None:
    with KamailioRegistrar("alice", "s3cret") as registrar:
        with pytest.raises(RegistrationError) as caught:
            await make_worker(registrar.uri, username="alice", password="wrong", registrar=registrar.uri)
    assert "registration at" in str(caught.value)
    assert any(code in str(caught.value) for code in ("401", "403"))


async def test_call_through_a_trunk_that_challenges_the_invite(make_worker: MakeWorker) -> None:
    with SippPeer("answer") as debtor, KamailioRegistrar("alice", "s3cret", downstream=debtor.uri) as trunk:
        worker = await make_worker(trunk.uri, username="alice", password="s3cret", registrar=trunk.uri)
        handle = await worker.dial(DEBTOR, hangup_after_s=1.0, record=False)
        result = await asyncio.wait_for(handle.result(), 30)
        invite = debtor.wait_for(lambda m: m.method == "INVITE", timeout=5)
    assert result.outcome == "answered"
    assert "Proxy-Authorization" not in invite.headers  # the proxy consumed our credentials


def test_cli_call_with_password_from_the_environment(tmp_path: Path) -> None:
    with SippPeer("answer") as debtor, KamailioRegistrar("alice", "s3cret", downstream=debtor.uri) as trunk:
        cfg = tmp_path / "belblok.toml"
        cfg.write_text(f"""
[database]
url = "sqlite:///{tmp_path}/b.db"
[sip]
trunk = "{trunk.uri}"
caller_id = "+31201234567"
username = "alice"
password_env = "TEST_SIP_PASSWORD"
[recording]
dir = "{tmp_path}/rec"
""")
        good = run_cli("--config", str(cfg), "call", "0612345678", "--hangup-after", "0.5", cwd=tmp_path,
                       env={"TEST_SIP_PASSWORD": "s3cret"})
        bad = run_cli("--config", str(cfg), "call", "0612345678", cwd=tmp_path, env={"TEST_SIP_PASSWORD": "nope"})
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["outcome"] == "answered"
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("belblok: error: registration at")
    assert "Traceback" not in bad.stderr
