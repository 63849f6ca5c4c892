"""AudioPool with real spawned workers: parallel work, per-file outcomes, a worker that dies, shutdown."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from dialer.recordings.pool import AudioPool, Outcome, WorkerCrashed
from dialer.recordings.transcoder import (
    ProcessedRecording,
    RecordingCorrupt,
    RecordingError,
    RecordingMissing,
    process_recording,
)
from tests.test_transcoder import write_call


# Tasks run in spawned workers, so they are top-level functions of an importable module.
def crash_or_process(wav_path: str | os.PathLike[str], **options: Any) -> ProcessedRecording:
    """Kill the worker process outright for a file named crash*; otherwise process it."""
    if Path(wav_path).name.startswith("crash"):
        os._exit(1)
    return process_recording(wav_path, **options)


def meet_then_process(wav_path: str | os.PathLike[str], *, barrier: Any, **options: Any) -> ProcessedRecording:
    """Wait until another worker arrives too (BrokenBarrierError if the pool ran one at a time)."""
    barrier.wait(timeout=60)
    return process_recording(wav_path, **options)


@pytest.fixture(scope="module")
def wav_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One generated 20 s call (gap 5-11 s), written once and copied per test."""
    return write_call(tmp_path_factory.mktemp("audio") / "call.wav").read_bytes()


@pytest.fixture
def calls(tmp_path: Path, wav_bytes: bytes) -> Any:
    """Write copies of the call under the given names."""
    def make(*names: str) -> list[Path]:
        paths = [tmp_path / name for name in names]
        for path in paths:
            path.write_bytes(wav_bytes)
        return paths
    return make


def test_files_are_processed_in_parallel(calls: Any) -> None:
    paths = calls("a.wav", "b.wav")
    seen: list[tuple[int, int, Path]] = []
    with multiprocessing.get_context("spawn").Manager() as manager, \
            AudioPool(workers=2, task=meet_then_process) as pool:
        # Both tasks must be inside a worker at the same time to pass the barrier.
        outcomes = pool.process_many(paths, barrier=manager.Barrier(2),
                                     progress=lambda done, total, path, _: seen.append((done, total, path)))
    assert all(isinstance(o, ProcessedRecording) for o in outcomes)
    assert [o.path.name for o in outcomes] == ["a.opus", "b.opus"]  # type: ignore[union-attr]
    assert [(done, total) for done, total, _ in seen] == [(1, 2), (2, 2)]
    assert {path for *_, path in seen} == set(paths)
    assert not any(p.exists() for p in paths)


def test_each_file_gets_its_own_outcome_in_order(calls: Any, tmp_path: Path) -> None:
    good, other = calls("good.wav", "other.wav")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\0\0\0\0WAVEnothing")
    with AudioPool(workers=2) as pool:
        outcomes = pool.process_many([good, tmp_path / "missing.wav", corrupt, other], fmt="mp3",
                                     out_dir=tmp_path / "out")
    assert [type(o) for o in outcomes] == [ProcessedRecording, RecordingMissing, RecordingCorrupt, ProcessedRecording]
    assert str(outcomes[1]) == f"recording missing: {tmp_path / 'missing.wav'}"
    assert sorted(os.listdir(tmp_path / "out")) == ["good.mp3", "other.mp3"]


def test_a_dead_worker_costs_only_its_own_file(calls: Any, tmp_path: Path) -> None:
    paths = calls("a.wav", "crash.wav", "b.wav", "c.wav")
    with AudioPool(workers=2, task=crash_or_process) as pool:
        outcomes = pool.process_many(paths)
        assert [type(o) for o in outcomes] == [ProcessedRecording, WorkerCrashed, ProcessedRecording,
                                               ProcessedRecording]
        assert str(outcomes[1]) == f"worker process died while processing {paths[1]}"
        assert isinstance(outcomes[1], RecordingError)
        assert paths[1].exists()  # nothing was done to it
        # The pool was replaced: the next batch runs normally.
        again, = pool.process_many(calls("d.wav"))
        assert isinstance(again, ProcessedRecording)


def test_a_bug_in_a_worker_is_a_recording_error_not_a_crash(calls: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, = calls("a.wav")
    with caplog.at_level(logging.ERROR, "dialer.recordings.pool"), AudioPool(workers=1) as pool:
        outcome, = pool.process_many([path], fmt="flac")
    assert type(outcome) is RecordingError
    assert str(outcome) == f"processing {path} failed: ValueError: unknown format 'flac'; expected one of opus, mp3"
    assert "processing" in caplog.text


def test_a_failing_progress_callback_does_not_stop_the_batch(calls: Any) -> None:
    def progress(done: int, total: int, path: Path, outcome: Outcome) -> None:
        raise RuntimeError("display gone")

    with AudioPool(workers=2) as pool:
        outcomes = pool.process_many(calls("a.wav", "b.wav"), progress=progress)
    assert all(isinstance(o, ProcessedRecording) for o in outcomes)


async def test_process_from_asyncio(calls: Any, tmp_path: Path) -> None:
    a, b, c = calls("a.wav", "b.wav", "c.wav")
    async with AudioPool(workers=2) as pool:
        results = await asyncio.gather(pool.process(a), pool.process(b), pool.process(c, keep_original=True))
        assert [r.path.name for r in results] == ["a.opus", "b.opus", "c.opus"]
        assert results[0].flags == ["long_silence"]
        assert not a.exists() and c.exists()
        with pytest.raises(RecordingMissing, match="recording missing"):
            await pool.process(tmp_path / "missing.wav")


async def test_a_dead_worker_under_asyncio(calls: Any) -> None:
    a, crash, b, d = calls("a.wav", "crash.wav", "b.wav", "d.wav")
    async with AudioPool(workers=2, task=crash_or_process) as pool:
        outcomes = await asyncio.gather(pool.process(a), pool.process(crash), pool.process(b),
                                        return_exceptions=True)
        assert [type(o) for o in outcomes] == [ProcessedRecording, WorkerCrashed, ProcessedRecording]
        assert isinstance(await pool.process(d), ProcessedRecording)


def test_close_stops_the_workers(calls: Any) -> None:
    before = set(multiprocessing.active_children())
    pool = AudioPool(workers=2)
    pool.process_many(calls("a.wav", "b.wav"))
    workers = set(multiprocessing.active_children()) - before
    assert workers
    pool.close()
    assert not workers & set(multiprocessing.active_children())
    with pytest.raises(RuntimeError, match="closed"):
        pool.process_many(calls("c.wav"))
    pool.close()  # twice is fine

