"""The recordings archive: rows for files, their processing results, access, bookmarks and retention."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from ..calllog.attempt import Attempt
from ..dossiers.casework import Agreement, Complaint
from ..dossiers.parties import Debtor
from .model import Bookmark, PurgeLogEntry, Recording, RecordingAccess
from .transcoder import ProcessedRecording

log = logging.getLogger(__name__)


class RecordingNotFound(LookupError):
    """No recording for that id or attempt (or not one this user may see)."""


@dataclass(frozen=True)
class RecordingFilter:
    """What the review list is narrowed to."""

    agent: str | None = None
    debtor: str | None = None  # a debtor ref, or part of a number
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    flag: str | None = None  # long_silence | promise | dispute | withheld
    limit: int = 200


def recording_json(rec: Recording) -> dict[str, Any]:
    """The recording as the CLI and the API show it."""
    return {
        "id": rec.id, "attempt_id": rec.attempt_id, "debtor": rec.debtor_ref, "agent": rec.agent,
        "number": rec.number, "outcome": rec.outcome, "status": rec.status,
        "path": rec.path or rec.source_path, "format": rec.format or "wav",
        "duration_s": rec.duration_s, "size_bytes": rec.size_bytes, "sha256": rec.sha256,
        "silences": rec.silences or [],
        "talk_s": {"agent": rec.talk_agent_s, "debtor": rec.talk_debtor_s},
        "flags": rec.flags or [], "legal_hold": rec.legal_hold, "error": rec.error,
        "created_at": rec.created_at.isoformat(),
    }


def shown_json(rec: Recording) -> dict[str, Any]:
    """The recording as the panel and its API show it: no server paths; the audio by its address."""
    item = recording_json(rec)
    del item["path"]
    item["audio_url"] = f"/recordings/{rec.id}/audio"
    if item["error"]:  # a processing error names the files it failed on: the panel says which recording
        for path in {p for p in (rec.path, rec.source_path) if p}:
            item["error"] = item["error"].replace(path, f"recording {rec.id}").replace(Path(path).name, "…")
    return item


def file_problem(rec: Recording, *, paths: bool = True) -> str | None:
    """Why the recording's file cannot be served (missing, or not what was stored), or None.

    With paths=False the message does not name the file (for the panel, which shows no server paths).
    """
    path = Path(rec.path or rec.source_path)
    named = str(path) if paths else f"of recording {rec.id}"
    if not path.is_file():
        return f"the file {named} is missing"
    if rec.sha256:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != rec.sha256:
            return f"the file {named} does not match its checksum (corrupt or replaced)"
    return None


def agreement_of_call(session: Session, attempt_id: int) -> int | None:
    """The id of the last agreement made in this call, if any."""
    return session.scalar(select(Agreement.id).where(Agreement.attempt_id == attempt_id)
                          .order_by(Agreement.id.desc()).limit(1))


class RecordingStore:
    """Reads and writes recording rows; every method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def register(self, attempt_id: int, source_path: str, *, at: datetime) -> int:
        """A new WAV from the softphone: a pending row copying the attempt's facts (idempotent)."""
        with self.sessions.begin() as s:
            found = s.scalar(select(Recording).where(Recording.attempt_id == attempt_id))
            if found is not None:
                return found.id
            attempt = s.get(Attempt, attempt_id)
            if attempt is None:
                raise RecordingNotFound(f"no attempt {attempt_id}")
            rec = Recording(attempt_id=attempt_id, debtor_ref=attempt.debtor_ref, agent=attempt.agent,
                            number=attempt.number, outcome=attempt.outcome,
                            caller_id_withheld=attempt.caller_id_withheld, status="pending",
                            source_path=source_path, created_at=at, flags=[],
                            # A wrap-up saved before the file arrived has already made its agreement.
                            agreement_id=agreement_of_call(s, attempt_id))
            s.add(rec)
            rec.flags = sorted(self._call_flags(s, rec))  # marks set during the call come before the file
            s.flush()
            return rec.id

    def pending(self) -> list[Recording]:
        """Rows whose file still has to be processed."""
        with self.sessions() as s:
            return list(s.scalars(select(Recording).where(Recording.status == "pending").order_by(Recording.id)))

    def apply(self, recording_id: int, done: ProcessedRecording, *, at: datetime) -> None:
        """Store what processing produced and point the attempt at the compact file."""
        talk = done.analysis.talk_s
        with self.sessions.begin() as s:
            rec = s.get(Recording, recording_id)
            if rec is None:
                raise RecordingNotFound(f"no recording {recording_id}")
            rec.status, rec.path, rec.format = "processed", str(done.path), done.format
            rec.duration_s, rec.size_bytes, rec.sha256 = done.duration_s, done.size_bytes, done.sha256
            rec.silences = [list(pair) for pair in done.analysis.to_json()["silences"]]
            rec.talk_agent_s = talk.get("agent", talk.get("mixed"))
            rec.talk_debtor_s = talk.get("debtor")
            rec.waveform = list(done.analysis.to_json()["waveform"])
            rec.flags = sorted(set(rec.flags or []) | set(done.flags) | self._call_flags(s, rec))
            rec.processed_at, rec.error = at, None
            attempt = s.get(Attempt, rec.attempt_id)
            if attempt is not None:
                attempt.recording_path = str(done.path)

    def _call_flags(self, s: Session, rec: Recording) -> set[str]:
        flags = {"withheld"} if rec.caller_id_withheld else set()
        kinds = set(s.scalars(select(Bookmark.kind).where(Bookmark.attempt_id == rec.attempt_id)))
        return flags | (kinds & {"promise", "dispute"})

    def mark_failed(self, recording_id: int, status: str, error: str) -> None:
        """The file is missing or corrupt: say so on the row (the UI and CLI show it)."""
        with self.sessions.begin() as s:
            rec = s.get(Recording, recording_id)
            if rec is not None:
                rec.status, rec.error = status, error[:1000]

    def get(self, recording_id: int, *, viewer: str | None = None, all_agents: bool = True) -> Recording:
        """One recording; an agent who may not see all only gets their own."""
        with self.sessions() as s:
            rec = s.get(Recording, recording_id)
        if rec is None or (not all_agents and rec.agent != viewer):
            raise RecordingNotFound(f"no recording {recording_id}")
        return rec

    def by_attempt(self, attempt_id: int) -> Recording | None:
        """The recording of an attempt, if any."""
        with self.sessions() as s:
            return s.scalar(select(Recording).where(Recording.attempt_id == attempt_id))

    def search(self, f: RecordingFilter, *, viewer: str | None = None, all_agents: bool = True) -> list[Recording]:
        """The review list: newest first, narrowed by the filter (agents see only their own)."""
        q = select(Recording).order_by(Recording.id.desc()).limit(f.limit)
        if not all_agents:
            q = q.where(Recording.agent == viewer)
        if f.agent:
            q = q.where(Recording.agent == f.agent)
        if f.debtor:
            q = q.where((Recording.debtor_ref == f.debtor) | Recording.number.contains(f.debtor))
        if f.outcome:
            q = q.where(Recording.outcome == f.outcome)
        if f.since:
            q = q.where(Recording.created_at >= f.since)
        if f.until:
            q = q.where(Recording.created_at < f.until)
        if f.min_duration_s is not None:
            q = q.where(Recording.duration_s >= f.min_duration_s)
        if f.max_duration_s is not None:
            q = q.where(Recording.duration_s <= f.max_duration_s)
        with self.sessions() as s:
            rows = list(s.scalars(q))
        if f.flag:
            rows = [r for r in rows if f.flag in (r.flags or [])]
        return rows

    def log_access(self, recording_id: int, user: str, action: str, *, at: datetime) -> None:
        """Every playback and download is logged: who, what, when."""
        with self.sessions.begin() as s:
            s.add(RecordingAccess(recording_id=recording_id, user=user, action=action, at=at))

    def accesses(self, recording_id: int) -> list[RecordingAccess]:
        """The access log of one recording, oldest first."""
        with self.sessions() as s:
            return list(s.scalars(select(RecordingAccess).where(RecordingAccess.recording_id == recording_id)
                                  .order_by(RecordingAccess.id)))

    def add_bookmark(self, attempt_id: int, offset_s: float, kind: str, *, label: str | None, by: str | None,
                     at: datetime) -> int:
        """A mark set during the call, `offset_s` into the recording."""
        with self.sessions.begin() as s:
            mark = Bookmark(attempt_id=attempt_id, offset_s=max(0.0, offset_s), kind=kind, label=label,
                            created_by=by, created_at=at)
            s.add(mark)
            rec = s.scalar(select(Recording).where(Recording.attempt_id == attempt_id))
            if rec is not None and kind in ("promise", "dispute"):
                rec.flags = sorted(set(rec.flags or []) | {kind})
            s.flush()
            return mark.id

    def bookmarks(self, attempt_id: int) -> list[Bookmark]:
        """Marks of an attempt in time order."""
        with self.sessions() as s:
            return list(s.scalars(select(Bookmark).where(Bookmark.attempt_id == attempt_id)
                                  .order_by(Bookmark.offset_s)))

    def set_legal_hold(self, recording_id: int, hold: bool) -> None:
        """Keep (or release) a recording regardless of retention."""
        with self.sessions.begin() as s:
            rec = s.get(Recording, recording_id)
            if rec is None:
                raise RecordingNotFound(f"no recording {recording_id}")
            rec.legal_hold = hold

    def purge_candidates(self, *, now: datetime, retention_days: int) -> list[Recording]:
        """Recordings past retention, not on legal hold, not linked to an open dispute."""
        if retention_days <= 0:
            return []
        cutoff = now - timedelta(days=retention_days)
        open_dispute = exists().where(Complaint.status == "open", Complaint.debtor_id == Debtor.id,
                                      Debtor.ref == Recording.debtor_ref)
        q = (select(Recording).where(Recording.created_at < cutoff, Recording.status != "purged",
                                     Recording.legal_hold.is_(False), ~open_dispute).order_by(Recording.id))
        with self.sessions() as s:
            return list(s.scalars(q))

    def purge(self, recs: Sequence[Recording], *, now: datetime, reason: str) -> list[int]:
        """Delete the files, mark the rows purged and log each purge; returns the purged ids."""
        purged = []
        for rec in recs:
            with self.sessions.begin() as s:
                row = s.get(Recording, rec.id)
                if row is None or row.status == "purged" or row.legal_hold:
                    continue
                for path in {row.path, row.source_path} - {None}:
                    try:
                        os.unlink(path)  # type: ignore[arg-type]
                    except FileNotFoundError:
                        pass
                s.add(PurgeLogEntry(recording_id=row.id, attempt_id=row.attempt_id, path=row.path or row.source_path,
                                    sha256=row.sha256, reason=reason, at=now))
                row.status, row.purged_at = "purged", now
                attempt = s.get(Attempt, row.attempt_id)
                if attempt is not None:
                    attempt.recording_path = None
            purged.append(rec.id)
            log.info("purged recording %s (attempt %s): %s", rec.id, rec.attempt_id, reason)
        return purged
