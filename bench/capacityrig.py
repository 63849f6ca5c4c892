"""The rig of bench/capacity.py: answering peers with a known tone, and what is measured on processes and audio."""

from __future__ import annotations

import os
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # noqa: F401  (pydub's, silenced as in pyproject)

from pydub import AudioSegment  # noqa: E402

from softphone.client import Worker, WorkerSettings  # noqa: E402

CALLER_ID = "+31201234567"
PER_PEER = 4  # calls one answering softphone holds (the wheel's limit)
FRAME_MS = 10
TICKS = os.sysconf("SC_CLK_TCK")


def tone(path: Path, frequency: int, seconds: float = 5.0) -> Path:
    """A mono 8 kHz tone WAV (ffmpeg), looped by the peers as their 'voice'."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={frequency}:duration={seconds}", "-ar", "8000", "-ac", "1", str(path)],
                   check=True)
    return path


async def peers(count: int, voice: Path, workdir: Path, name: str, heard: list) -> list[Worker]:
    """Softphones that answer every call with `voice`, looping, and record what they hear."""
    made = []
    for i in range(count):
        settings = WorkerSettings(trunk="127.0.0.1:9", caller_id=CALLER_ID, name=f"{name}-{i}",
                                  recording_dir=str(workdir / name / str(i)),  # call refs are per worker
                                  incoming="answer", greeting=str(voice), greeting_loop=True,
                                  clock_rate=8000)  # the rig: as cheap as it can be
        worker = Worker(settings, on_incoming=heard.append)
        await worker.start()
        made.append(worker)
    return made


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Sample:
    """CPU of the measured and the rig's processes, and the machine's, at one moment."""

    measured: float
    rig: float
    busy: float
    total: float
    at: float

    @classmethod
    def take(cls, measured: list[int], rig: list[int]) -> Sample:
        busy, total = machine_busy()
        return cls(sum(map(cpu_seconds, measured)), sum(map(cpu_seconds, rig)), busy, total, time.monotonic())


def longest_gap_ms(channel: AudioSegment) -> float:
    """The longest run of near-silent 10 ms frames between the tone's first and last sound."""
    frames = [channel[i:i + FRAME_MS].rms for i in range(0, len(channel) - FRAME_MS + 1, FRAME_MS)]
    loud = sorted(frames)[len(frames) // 2] if frames else 0
    if loud <= 0:
        return float(len(channel))
    sounding = [rms >= loud / 10 for rms in frames]
    if True not in sounding:
        return float(len(channel))
    first, last = sounding.index(True), len(sounding) - 1 - sounding[::-1].index(True)
    longest = run = 0
    for audible in sounding[first:last + 1]:
        run = 0 if audible else run + 1
        longest = max(longest, run)
    return longest * FRAME_MS


def load(path: str | Path) -> AudioSegment:
    with open(path, "rb") as f:
        return AudioSegment.from_wav(f)


def stream_quality(media: list[dict]) -> dict:
    """The worst loss, late share and jitter over the calls' RTP streams, as each receiver counted them."""
    def share(m: dict, key: str) -> float:
        expected = m["rx_packets"] + m["rx_lost"]
        return 100 * m[key] / expected if expected else 100.0
    return {"streams": len(media),
            "loss_pct_max": round(max((share(m, "rx_lost") for m in media), default=float("nan")), 3),
            "late_pct_max": round(max((share(m, "rx_late") for m in media), default=float("nan")), 3),
            "jitter_ms_max": max((m["rx_jitter_ms_max"] for m in media), default=float("nan")),
            "jitter_ms_mean": round(sum(m["rx_jitter_ms_mean"] for m in media) / max(len(media), 1), 2)}
