"""Recorded calls end to end: a real call, processing, the archive, retention, bad files."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydub.generators import Sine
from sqlalchemy.orm import sessionmaker

from dialer.calllog.journal import CallLog
from dialer.dossiers.casework import Complaint
from dialer.dossiers.parties import Debtor
from dialer.recordings.store import RecordingFilter, RecordingStore, file_problem
from softphone.sipp import SippPeer
from tests.conftest import probe, run_cli
from tests.test_cli import write_config

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_a_real_call_is_recorded_processed_and_listed(tmp_path: Path) -> None:
    with SippPeer("answer") as peer:
        cfg = write_config(tmp_path, peer.uri)
        proc = run_cli("--config", str(cfg), "call", "0612345678", "--hangup-after", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    call = json.loads(proc.stdout)
    audio = probe(call["recording"])
    assert audio["codec"] == "opus"
    assert audio["duration"] == pytest.approx(call["duration_s"], abs=0.5)
    assert os.path.getsize(call["recording"]) <= 200_000 * call["duration_s"] / 60 + 4096
    assert not list((tmp_path / "rec").glob("*.wav"))  # the WAV went once the Opus file was verified

    listed = json.loads(run_cli("--config", str(cfg), "recordings", "list", "--json", cwd=tmp_path).stdout)
    assert len(listed) == 1
    item = listed[0]
    assert {"attempt_id", "path", "format", "duration_s", "silences", "talk_s", "flags"} <= item.keys()
    assert (item["attempt_id"], item["path"], item["format"]) == (call["attempt_id"], call["recording"], "opus")
    assert item["talk_s"]["debtor"] > 1.0  # SIPp's sample speaks
    assert item["talk_s"]["agent"] == 0.0  # nobody on the agent line in this call


def _stereo_wav(path: Path, seconds: float = 4.0) -> Path:
    tone = Sine(300).to_audio_segment(duration=int(seconds * 1000), volume=-15).set_frame_rate(16000)
    from pydub import AudioSegment

    with path.open("wb") as f:  # pydub leaves a path's file open
        AudioSegment.from_mono_audiosegments(tone, tone).export(f, format="wav")
    return path


def _attempt(calllog: CallLog, agent: str, debtor: str | None = None) -> int:
    attempt_id = calllog.open_attempt(number="+31612345678", caller_id="+31201234567", caller_id_withheld=False,
                                      at=NOW, agent=agent, debtor_ref=debtor)
    calllog.mark_ended(attempt_id, at=NOW, outcome="answered", sip_code=200, sip_reason="OK", sip_code_source="wire")
    return attempt_id


def test_process_pending_fills_the_row_and_agents_see_only_their_own(engine, calllog: CallLog, tmp_path) -> None:
    store = RecordingStore(sessionmaker(engine, expire_on_commit=False))
    mine = store.register(_attempt(calllog, "anna"), str(_stereo_wav(tmp_path / "a.wav")), at=NOW)
    theirs = store.register(_attempt(calllog, "bert"), str(_stereo_wav(tmp_path / "b.wav")), at=NOW)
    from dialer.recordings.jobs import process_pending
    from dialer.settings.config import parse

    cfg = parse('[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n')
    assert process_pending(store, cfg, workers=1) == (2, 0)
    rec = store.get(mine)
    assert rec.status == "processed" and rec.format == "opus" and rec.duration_s == pytest.approx(4.0, abs=0.5)
    assert file_problem(rec) is None
    assert [r.id for r in store.search(RecordingFilter(), viewer="anna", all_agents=False)] == [mine]
    with pytest.raises(LookupError):
        store.get(theirs, viewer="anna", all_agents=False)
    assert len(store.search(RecordingFilter())) == 2


def test_missing_and_corrupt_files_are_reported_not_crashed(engine, calllog: CallLog, tmp_path) -> None:
    store = RecordingStore(sessionmaker(engine, expire_on_commit=False))
    gone = store.register(_attempt(calllog, "anna"), str(tmp_path / "never-written.wav"), at=NOW)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(os.urandom(5000))
    bad = store.register(_attempt(calllog, "anna"), str(junk), at=NOW)
    from dialer.recordings.jobs import process_pending
    from dialer.settings.config import parse

    cfg = parse('[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n')
    assert process_pending(store, cfg, workers=1) == (0, 2)
    assert (store.get(gone).status, store.get(bad).status) == ("missing", "corrupt")
    assert "never-written.wav" in (store.get(gone).error or "")


def test_tampered_file_fails_its_checksum(engine, calllog: CallLog, tmp_path) -> None:
    store = RecordingStore(sessionmaker(engine, expire_on_commit=False))
    rid = store.register(_attempt(calllog, "anna"), str(_stereo_wav(tmp_path / "a.wav")), at=NOW)
    from dialer.recordings.jobs import process_one
    from dialer.settings.config import parse

    assert process_one(store, parse('[sip]\ntrunk = "127.0.0.1:9"\ncaller_id = "+31201234567"\n'), rid)
    rec = store.get(rid)
    with open(rec.path, "ab") as f:
        f.write(b"tampered")
    assert "checksum" in (file_problem(store.get(rid)) or "")


def test_retention_purges_old_recordings_except_legal_hold_and_open_disputes(engine, calllog: CallLog,
                                                                            tmp_path) -> None:
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as s:
        disputed = Debtor(ref="D-DISPUTE", name="Twist BV", created_at=NOW, updated_at=NOW)
        s.add(disputed)
        s.flush()
        s.add(Complaint(debtor_id=disputed.id, status="open", summary="goods damaged", opened_on=NOW.date()))
    store = RecordingStore(sessions)
    old = NOW - timedelta(days=40)
    files = [_stereo_wav(tmp_path / f"{n}.wav", 1.0) for n in range(4)]
    plain = store.register(_attempt(calllog, "anna"), str(files[0]), at=old)
    held = store.register(_attempt(calllog, "anna"), str(files[1]), at=old)
    in_dispute = store.register(_attempt(calllog, "anna", "D-DISPUTE"), str(files[2]), at=old)
    recent = store.register(_attempt(calllog, "anna"), str(files[3]), at=NOW - timedelta(days=5))
    store.set_legal_hold(held, True)

    candidates = store.purge_candidates(now=NOW, retention_days=30)
    assert [r.id for r in candidates] == [plain]
    assert store.purge(candidates, now=NOW, reason="retention: older than 30 days") == [plain]
    assert not files[0].exists() and files[1].exists() and files[2].exists() and files[3].exists()
    assert store.get(plain).status == "purged"
    assert {held, in_dispute, recent} == {r.id for r in store.search(RecordingFilter()) if r.status != "purged"}
    from sqlalchemy import select

    from dialer.recordings.model import PurgeLogEntry

    with sessions() as s:
        log = s.scalars(select(PurgeLogEntry)).all()
    assert [(e.recording_id, e.reason) for e in log] == [(plain, "retention: older than 30 days")]


def test_purge_cli_dry_run_removes_nothing(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "127.0.0.1:9", extra="")
    text = cfg.read_text().replace(f'dir = "{tmp_path / "rec"}"', f'dir = "{tmp_path / "rec"}"\nretention_days = 30')
    cfg.write_text(text)
    proc = run_cli("--config", str(cfg), "recordings", "purge", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "0 recording(s) past 30 days would be purged" in proc.stdout


def test_bookmarks_flag_the_recording(engine, calllog: CallLog, tmp_path) -> None:
    store = RecordingStore(sessionmaker(engine, expire_on_commit=False))
    attempt = _attempt(calllog, "anna")
    rid = store.register(attempt, str(_stereo_wav(tmp_path / "a.wav")), at=NOW)
    store.add_bookmark(attempt, 12.5, "promise", label="€ 500 on Friday", by="anna", at=NOW)
    store.add_bookmark(attempt, 3.0, "dispute", label=None, by="anna", at=NOW)
    assert [(b.offset_s, b.kind) for b in store.bookmarks(attempt)] == [(3.0, "dispute"), (12.5, "promise")]
    assert set(store.get(rid).flags) == {"promise", "dispute"}
    assert [r.id for r in store.search(RecordingFilter(flag="promise"))] == [rid]
