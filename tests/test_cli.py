"""The `belblok` command line as scripts use it: JSON out, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from softphone.sipp import SippPeer
from tests.conftest import probe, run_cli

REQUIRED_KEYS = {"attempt_id", "number", "outcome", "sip_code", "sip_reason", "caller_id_withheld", "answered_at",
                 "ended_at", "duration_s", "recording"}


def write_config(tmp_path: Path, trunk: str, db_url: str | None = None, extra: str = "") -> Path:
    path = tmp_path / "belblok.toml"
    path.write_text(f"""
[database]
url = "{db_url or 'sqlite:///' + str(tmp_path / 'var/belblok.db')}"
[sip]
trunk = "{trunk}"
caller_id = "+31201234567"
response_timeout_s = 2
{extra}
[numbers]
default_region = "NL"
[recording]
dir = "{tmp_path / 'rec'}"
""")
    return path


def attempt_count(db_url: str) -> int:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return conn.execute(text("select count(*) from attempts")).scalar_one()
    finally:
        engine.dispose()


def assert_one_line_error(proc, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("belblok: error: ")
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_call_prints_the_attempt_as_json(tmp_path: Path, db_url: str) -> None:
    with SippPeer("answer") as peer:
        cfg = write_config(tmp_path, peer.uri, db_url)
        assert run_cli("--config", str(cfg), "db", "upgrade", cwd=tmp_path).returncode == 0
        proc = run_cli("--config", str(cfg), "call", "020-1234567", "--hangup-after", "1.5", cwd=tmp_path)
        invite = peer.wait_for(lambda m: m.method == "INVITE", timeout=5)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert REQUIRED_KEYS <= out.keys()
    assert out["number"] == "+31201234567"
    assert invite.first_line.startswith(f"INVITE sip:+31201234567@{peer.uri} ")
    assert (out["outcome"], out["sip_code"], out["sip_reason"]) == ("answered", 200, "OK")
    assert out["caller_id_withheld"] is False
    assert out["duration_s"] == pytest.approx(1.5, abs=0.5)
    audio = probe(out["recording"])  # processed before `call` exits: compact, stereo, same length
    assert audio["channels"] == 2
    assert audio["duration"] == pytest.approx(out["duration_s"], abs=0.5)
    assert attempt_count(db_url) == 1


def test_call_with_withheld_id_and_outcome_busy_still_exits_0(tmp_path: Path) -> None:
    with SippPeer("reject", keys={"code": 486, "reason": "Busy Here"}) as peer:
        cfg = write_config(tmp_path, peer.uri)
        proc = run_cli("--config", str(cfg), "call", "+31612345678", "--withhold-id", cwd=tmp_path)
        invite = peer.wait_for(lambda m: m.method == "INVITE", timeout=5)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["outcome"], out["sip_code"], out["caller_id_withheld"]) == ("busy", 486, True)
    assert out["answered_at"] is None and out["duration_s"] is None and out["recording"] is None
    assert invite.header("Privacy") == "id"


def test_ring_timeout_option(tmp_path: Path) -> None:
    with SippPeer("ring") as peer:
        cfg = write_config(tmp_path, peer.uri)
        proc = run_cli("--config", str(cfg), "call", "0612345678", "--ring-timeout", "1", cwd=tmp_path)
    out = json.loads(proc.stdout)
    assert (out["outcome"], out["sip_code"]) == ("no_answer", 487)


def test_unreachable_trunk_is_an_outcome_with_a_warning(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "127.0.0.1:9")
    proc = run_cli("--config", str(cfg), "call", "0612345678", cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["outcome"] == "network_error"
    assert "warning" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("number", ["12", "not-a-number", "020-12345", ""])
def test_invalid_number_exits_2_and_dials_nothing(tmp_path: Path, number: str) -> None:
    with SippPeer("answer") as peer:
        cfg = write_config(tmp_path, peer.uri)
        proc = run_cli("--config", str(cfg), "call", number, cwd=tmp_path)
        messages = peer.messages()
    assert_one_line_error(proc, "phone number")
    assert messages == []
    assert not (tmp_path / "var/belblok.db").exists()  # nothing half-written either


@pytest.mark.parametrize(("extra", "fragment"), [
    ('bogus_key = 1', "[sip] bogus_key: unknown key"),
    ('transport = "sctp"', "[sip] transport"),
    ('ring_timeout_s = -1', "[sip] ring_timeout_s"),
    ('username = "alice"\npassword_env = "BELBLOK_TEST_NO_SUCH_VAR"', "BELBLOK_TEST_NO_SUCH_VAR is not set"),
])
def test_bad_configuration_exits_2_with_one_line(tmp_path: Path, extra: str, fragment: str) -> None:
    with SippPeer("answer") as peer:
        cfg = write_config(tmp_path, peer.uri, extra=extra)
        proc = run_cli("--config", str(cfg), "call", "0612345678", cwd=tmp_path)
        messages = peer.messages()
    assert_one_line_error(proc, fragment)
    assert messages == []


def test_missing_config_file(tmp_path: Path) -> None:
    proc = run_cli("call", "0612345678", cwd=tmp_path, env={"BELBLOK_CONFIG": ""})
    assert_one_line_error(proc, "config/belblok.toml", "--config")


def test_unreachable_database_exits_2_and_dials_nothing(tmp_path: Path) -> None:
    with SippPeer("answer") as peer:
        cfg = write_config(tmp_path, peer.uri, db_url="postgresql://postgres@127.0.0.1:1/belblok")
        proc = run_cli("--config", str(cfg), "call", "0612345678", cwd=tmp_path)
        messages = peer.messages()
    assert_one_line_error(proc, "127.0.0.1:1")
    assert messages == []


def test_db_upgrade_creates_and_is_idempotent(tmp_path: Path, db_url: str) -> None:
    cfg = write_config(tmp_path, "127.0.0.1:9", db_url)
    first = run_cli("--config", str(cfg), "db", "upgrade", cwd=tmp_path)
    second = run_cli("--config", str(cfg), "db", "upgrade", cwd=tmp_path)
    status = run_cli("--config", str(cfg), "db", "status", cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr
    assert "empty" in first.stdout and "current" in second.stdout
    assert status.stdout.strip() == "current"
    assert attempt_count(db_url) == 0
