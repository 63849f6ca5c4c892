"""Benchmark: recording post-processing against a bare ffmpeg Opus encode of the same WAV.

    .venv/bin/python bench/audio.py [--minutes 10] [--files 4] [--repeat 3]

Generates `--minutes` of synthetic stereo call audio (16 kHz, 16-bit; turns of
voice-like syllables on one channel at a time, pauses, an occasional long
silence, a line-noise floor), then measures CPU seconds, including the ffmpeg
and ffprobe children, for: the bare `ffmpeg -i in.wav -c:a libopus -b:a 24k
out.ogg`; `process_recording` in this process (with a breakdown by stage); and
`AudioPool(workers=2).process_many` over `--files` copies. Reports the real-time
factor per core (audio seconds / CPU seconds) as a Markdown table and writes
JSON to bench/out/audio.json. The target is at least 50x real time per core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # audioop, as in pyproject's pytest filters
    import audioop

from pydub import AudioSegment  # noqa: E402

from dialer.recordings import transcoder  # noqa: E402
from dialer.recordings.analysis import analyse  # noqa: E402
from dialer.recordings.pool import AudioPool  # noqa: E402

RATE, WIDTH = 16000, 2
TARGET = 50.0
T = TypeVar("T")


def syllable(rng: random.Random) -> bytes:
    """A voiced syllable: harmonics of a gliding pitch with a little breath noise, under a smooth envelope."""
    n = int(rng.uniform(0.08, 0.3) * RATE)
    f0, glide, amp = rng.uniform(90, 260), rng.uniform(-0.3, 0.3), rng.uniform(0.1, 0.4)
    samples, phase = [], 0.0
    for i in range(n):
        phase += 2 * math.pi * f0 * (1 + glide * i / n) / RATE
        voice = sum(math.sin(k * phase) / k for k in range(1, 9))
        envelope = math.sin(math.pi * i / n) ** 2
        samples.append(int(32767 * amp * envelope * (0.5 * voice + 0.1 * rng.uniform(-1, 1)) / 1.5))
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


def silence(seconds: float) -> bytes:
    """Digital silence; the noise floor is added afterwards."""
    return b"\0" * (int(seconds * RATE) * WIDTH)


def call_audio(minutes: float, seed: int = 7) -> AudioSegment:
    """Synthetic stereo call: turns alternate between agent (left) and debtor (right)."""
    rng = random.Random(seed)
    syllables = [syllable(rng) for _ in range(48)]
    total = int(minutes * 60 * RATE) * WIDTH
    tracks = [bytearray(), bytearray()]
    speaker = 0
    while len(tracks[0]) < total:
        turn = bytearray()
        for _ in range(rng.randint(2, 12)):  # words
            for _ in range(rng.randint(1, 4)):  # syllables
                turn += rng.choice(syllables) + silence(rng.uniform(0.02, 0.08))
            turn += silence(rng.uniform(0.1, 0.25))
        tracks[speaker] += turn
        tracks[1 - speaker] += silence(len(turn) / WIDTH / RATE)
        pause = silence(4.5 if rng.random() < 0.05 else rng.uniform(0.3, 1.5))  # now and then a long one
        for track in tracks:
            track += pause
        speaker = 1 - speaker if rng.random() < 0.8 else speaker
    noise = audioop.mul(rng.randbytes(total), WIDTH, 0.001)  # about -65 dBFS of line noise
    left, right = (audioop.add(bytes(track[:total]), noise, WIDTH) for track in tracks)
    stereo = audioop.add(audioop.tostereo(left, WIDTH, 1, 0), audioop.tostereo(right, WIDTH, 0, 1), WIDTH)
    return AudioSegment(stereo, frame_rate=RATE, sample_width=WIDTH, channels=2)


def cpu_seconds() -> float:
    """CPU time of this process plus its reaped children (ffmpeg, ffprobe, pool workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def measured(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn's result, its CPU seconds and its wall seconds."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = fn()
    return result, cpu_seconds() - cpu, time.perf_counter() - wall


def bare_ffmpeg(wav: Path, out: Path) -> None:
    """The baseline: the plainest Opus encode of the same file."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "24k",
                    str(out)], check=True)


def stages(wav: Path, out_dir: Path) -> dict[str, float]:
    """CPU seconds of each step of process_recording, run one by one."""
    spec, times = transcoder.FORMATS["opus"], {}

    def step(name: str, fn: Callable[[], T]) -> T:
        result, cpu, _ = measured(fn)
        times[name] = cpu
        return result

    segment = step("load", lambda: transcoder.load_wav(wav))
    analysis = step("analyse", lambda: analyse(segment))
    played = step("normalise", lambda: transcoder.normalise(segment, analysis))
    target = out_dir / "stages.opus"
    step("encode (ffmpeg)", lambda: transcoder.encode(played, target, spec))
    step("verify (ffprobe)", lambda: transcoder.verify(target, analysis.duration_s, spec.codec_name))
    step("checksum", lambda: transcoder.checksum(target))
    return times


def run(minutes: float, files: int, repeat: int) -> dict[str, Any]:
    """All measurements on one generated file."""
    work = Path(tempfile.mkdtemp(prefix="belblok-bench-audio-"))
    try:
        wav = work / "call.wav"
        call_audio(minutes).export(wav, format="wav").close()
        audio_s = minutes * 60
        rows: dict[str, Any] = {}

        def bare() -> None:
            for _ in range(repeat):
                bare_ffmpeg(wav, work / "bare.ogg")

        _, cpu, wall = measured(bare)
        rows["bare ffmpeg libopus 24k"] = {"audio_s": audio_s * repeat, "cpu_s": cpu, "wall_s": wall,
                                          "kB_per_min": (work / "bare.ogg").stat().st_size / 1000 / minutes}

        results, cpu, wall = measured(lambda: [transcoder.process_recording(wav, work / "single", keep_original=True)
                                               for _ in range(repeat)])
        rows["process_recording, 1 process"] = {"audio_s": audio_s * repeat, "cpu_s": cpu, "wall_s": wall,
                                                "kB_per_min": results[0].size_bytes / 1000 / minutes}

        copies = []
        for i in range(files):
            copies.append(work / f"pool-{i}.wav")
            shutil.copyfile(wav, copies[-1])

        def pooled() -> list[Any]:
            with AudioPool(workers=2) as pool:  # closing reaps the workers, so their CPU is counted
                return pool.process_many(copies, out_dir=work / "pool")

        outcomes, cpu, wall = measured(pooled)
        failed = [o for o in outcomes if isinstance(o, Exception)]
        if failed:
            raise SystemExit(f"pool failed: {failed[0]}")
        rows["AudioPool(2).process_many (incl. worker start)"] = {"audio_s": audio_s * files, "cpu_s": cpu,
                                                                   "wall_s": wall,
                                                                   "kB_per_min": outcomes[0].size_bytes / 1000 / minutes}
        for row in rows.values():
            row["x_realtime_per_core"] = row["audio_s"] / row["cpu_s"]
            row["x_realtime_wall"] = row["audio_s"] / row["wall_s"]
        analysis = results[0].analysis
        return {"minutes": minutes, "files": files, "repeat": repeat, "cpus": os.cpu_count(), "rows": rows,
                "stages_cpu_s": stages(wav, work), "talk_s": analysis.talk_s, "silences": len(analysis.silences)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    lines = ["| run | audio s | CPU s | wall s | x real time per core | x real time (wall) | kB/min |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in report["rows"].items():
        lines.append(f"| {name} | {r['audio_s']:.0f} | {r['cpu_s']:.2f} | {r['wall_s']:.2f} | "
                     f"{r['x_realtime_per_core']:.0f} | {r['x_realtime_wall']:.0f} | {r['kB_per_min']:.0f} |")
    lines += ["", f"Stages of one {report['minutes']:g}-minute file (CPU s):", "",
              "| stage | CPU s |", "|---|---:|"]
    lines += [f"| {name} | {cpu:.3f} |" for name, cpu in report["stages_cpu_s"].items()]
    single = report["rows"]["process_recording, 1 process"]["x_realtime_per_core"]
    lines += ["", f"Target: >= {TARGET:.0f}x real time per core: {'met' if single >= TARGET else 'NOT met'} "
              f"({single:.0f}x single process)."]
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the generated call")
    parser.add_argument("--files", type=int, default=4, help="copies processed through the pool")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the single-process measurements")
    args = parser.parse_args()
    report = run(args.minutes, args.files, args.repeat)
    out = ROOT / "bench/out/audio.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(table(report))


if __name__ == "__main__":
    main()
