"""A process pool for recording post-processing, usable from asyncio and from plain code."""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .transcoder import ProcessedRecording, RecordingError, process_recording

log = logging.getLogger(__name__)

Task = Callable[..., ProcessedRecording]  # a top-level function, so spawned workers can import it
Outcome = ProcessedRecording | RecordingError
Progress = Callable[[int, int, Path, Outcome], None]


class WorkerCrashed(RecordingError):
    """The worker process died while processing this recording."""


class AudioPool:
    """Worker processes that run `process_recording`; a dead worker costs one recording, not the pool.

    `process()` may be awaited from one event loop; `process_many()` blocks, so call it from plain code.
    """

    def __init__(self, workers: int = 2, *, task: Task = process_recording, start_method: str = "spawn") -> None:
        # spawn, not fork: the coordinator has threads (asyncio, pjsua2) a forked child would inherit half-held.
        self.workers = workers
        self.task = task
        self._context = multiprocessing.get_context(start_method)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._slots: asyncio.Semaphore | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("AudioPool is closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(self.workers, mp_context=self._context)
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        """Forget a broken executor; the next call starts a fresh one."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def _call(self, wav_path: str | os.PathLike[str], options: dict[str, Any]) -> Callable[[], ProcessedRecording]:
        return functools.partial(self.task, wav_path, **options)

    def _alone(self, wav_path: str | os.PathLike[str], options: dict[str, Any]) -> ProcessedRecording:
        """Run one recording in a worker of its own: if that dies too, this recording killed it."""
        with ProcessPoolExecutor(1, mp_context=self._context) as executor:
            try:
                return executor.submit(self._call(wav_path, options)).result()
            except BrokenProcessPool:
                raise WorkerCrashed(f"worker process died while processing {wav_path}") from None

    async def process(self, wav_path: str | os.PathLike[str], **options: Any) -> ProcessedRecording:
        """Process one recording in a worker process; RecordingError (or WorkerCrashed) on failure."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        # Waiting here rather than in the executor's queue: a dying worker then breaks only the calls running.
        async with self._slots:
            loop = asyncio.get_running_loop()
            executor = self._pool()
            try:
                return await loop.run_in_executor(executor, self._call(wav_path, options))
            except BrokenProcessPool:
                self._discard(executor)
            # Every call running sees the pool break; only a rerun on its own tells whose recording did it.
            log.warning("audio worker died; retrying %s in a worker of its own", wav_path)
            return await loop.run_in_executor(None, self._alone, wav_path, options)

    def process_many(self, paths: Iterable[str | os.PathLike[str]], *, progress: Progress | None = None,
                     **options: Any) -> list[Outcome]:
        """Process recordings in parallel; one outcome per path, in order: the result or its RecordingError."""
        files = [Path(p) for p in paths]
        outcomes: list[Outcome | None] = [None] * len(files)
        done = 0

        def record(index: int, outcome: Outcome) -> None:
            nonlocal done
            outcomes[index], done = outcome, done + 1
            if progress is not None:
                try:
                    progress(done, len(files), files[index], outcome)
                except Exception:  # a progress display must not stop the batch
                    log.exception("progress callback failed")

        suspects: list[int] = []

        def collect(future: Future[ProcessedRecording], index: int) -> None:
            try:
                record(index, future.result())
            except BrokenProcessPool:
                suspects.append(index)
            except Exception as exc:
                record(index, _as_recording_error(files[index], exc))

        waiting = deque(range(len(files)))
        running: dict[Future[ProcessedRecording], int] = {}
        executor = self._pool()
        while waiting or running:
            # No more submitted than there are workers: a dying worker then breaks only the tasks running.
            while waiting and len(running) < self.workers:
                index = waiting.popleft()
                try:
                    running[executor.submit(self._call(files[index], options))] = index
                except BrokenProcessPool:
                    suspects.append(index)
            for future in wait(running, return_when=FIRST_COMPLETED).done if running else ():
                collect(future, running.pop(future))
            if suspects:
                for future in list(running):  # broken as well, or finishing: collect either way
                    collect(future, running.pop(future))
                self._discard(executor)
                log.warning("audio worker died; retrying %d recording(s) one by one", len(suspects))
                for index in sorted(suspects):
                    try:
                        record(index, self._alone(files[index], options))
                    except Exception as exc:
                        record(index, _as_recording_error(files[index], exc))
                suspects.clear()
                if waiting:
                    executor = self._pool()
        return [outcome for outcome in outcomes if outcome is not None]

    def close(self) -> None:
        """Stop the workers, dropping work not yet started."""
        with self._lock:
            self._closed, executor, self._executor = True, self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    async def aclose(self) -> None:
        """`close()` without blocking the event loop."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> AudioPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> AudioPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _as_recording_error(path: Path, exc: Exception) -> RecordingError:
    if isinstance(exc, RecordingError):
        return exc
    # A bug, not a bad file: keep the batch going, but leave the traceback in the log.
    log.error("processing %s failed unexpectedly", path, exc_info=exc)
    detail = str(exc).splitlines()[0] if str(exc) else ""
    error = RecordingError(f"processing {path} failed: {type(exc).__name__}: {detail}")
    error.__cause__ = exc
    return error
