"""Shared fixtures: databases (tests/dbfixtures.py), SIP peers and softphone workers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from softphone.client import Worker, WorkerSettings
from tests.dbfixtures import *  # noqa: F401,F403

ROOT = Path(__file__).resolve().parent.parent
CALLER_ID = "+31201234567"
DEBTOR = "+31612345678"

MakeWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def make_worker(tmp_path: Path) -> AsyncIterator[MakeWorker]:
    """Start real worker processes; every one is stopped at the end of the test."""
    workers: list[Worker] = []

    async def make(trunk: str, **options: object) -> Worker:
        options.setdefault("no_response_timeout_s", 2.0)
        on_incoming = options.pop("on_incoming", None)
        settings = WorkerSettings(trunk=trunk, caller_id=str(options.pop("caller_id", CALLER_ID)),
                                  recording_dir=str(tmp_path / "recordings"), **options)  # type: ignore[arg-type]
        worker = Worker(settings, on_incoming=on_incoming)  # type: ignore[arg-type]
        workers.append(worker)
        await worker.start()
        return worker

    yield make
    for worker in workers:
        await worker.stop()


def load_wav(path: str | Path):
    """Read a WAV with pydub, closing the file (pydub leaves a path's file open)."""
    from pydub import AudioSegment

    with open(path, "rb") as f:
        return AudioSegment.from_wav(f)


def probe(path: str | Path) -> dict:
    """ffprobe's view of an audio file: format, codec, channels, duration (it must decode)."""
    import json as _json

    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels:format=duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    data = _json.loads(out.stdout)
    stream = data["streams"][0]
    return {"codec": stream["codec_name"], "channels": stream["channels"], "duration": float(data["format"]["duration"])}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real `belblok` console script."""
    return subprocess.run([str(Path(sys.executable).with_name("belblok")), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def make_tone(path: Path, seconds: float = 3.0, frequency: int = 440) -> Path:
    """A mono 16 kHz sine WAV made by ffmpeg: what a simulated party 'says'."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={frequency}:duration={seconds}", "-ar", "16000", "-ac", "1", str(path)],
                   check=True)
    return path


def stop_process(proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """SIGTERM a server started by a test, kill it if it does not stop, close its pipes."""
    import signal

    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
