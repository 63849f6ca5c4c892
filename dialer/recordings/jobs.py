"""Processing pending recordings: one file right after a call, or everything pending in a pool."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime, timezone

from ..settings.config import Config
from .model import Recording
from .pool import AudioPool
from .store import RecordingStore
from .transcoder import (
    ProcessedRecording,
    RecordingCorrupt,
    RecordingError,
    RecordingMissing,
    process_recording,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _options(cfg: Config) -> dict:
    return {"fmt": cfg.recording.format, "min_silence_s": cfg.recording.min_silence_s}


def record_outcome(store: RecordingStore, rec: Recording, outcome: ProcessedRecording | RecordingError) -> bool:
    if isinstance(outcome, ProcessedRecording):
        store.apply(rec.id, outcome, at=_now())
        return True
    status = "missing" if isinstance(outcome, RecordingMissing) else "corrupt" if isinstance(
        outcome, RecordingCorrupt) else "pending"
    store.mark_failed(rec.id, status, str(outcome))
    log.warning("recording %s (attempt %s): %s", rec.id, rec.attempt_id, outcome)
    return False


def process_one(store: RecordingStore, cfg: Config, recording_id: int) -> bool:
    """Process one recording in this process (what `belblok call` does before it exits)."""
    rec = store.get(recording_id)
    try:
        outcome: ProcessedRecording | RecordingError = process_recording(rec.source_path, **_options(cfg))
    except RecordingError as exc:
        outcome = exc
    return record_outcome(store, rec, outcome)


def process_pending(store: RecordingStore, cfg: Config, *, workers: int = 2,
                    progress: Progress | None = None) -> tuple[int, int]:
    """Process every pending recording in a process pool; returns (processed, failed)."""
    pending = store.pending()
    if not pending:
        return 0, 0
    ok = failed = 0
    report = None if progress is None else (lambda done, total, path, _outcome: progress(done, total, str(path)))
    with AudioPool(workers=workers) as pool:
        outcomes = pool.process_many([r.source_path for r in pending], progress=report, **_options(cfg))
    for rec, outcome in zip(pending, outcomes):
        if record_outcome(store, rec, outcome):
            ok += 1
        else:
            failed += 1
    return ok, failed


def terminal_progress(done: int, total: int, path: str) -> None:
    """A one-line progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
