"""Audio analysis of a call recording: duration, talk time per party, long silences, a waveform."""

from __future__ import annotations

import audioop  # C speed on raw PCM; deprecated in 3.13 (pydub depends on it too, or on audioop-lts)
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

STEREO_PARTIES = ("agent", "debtor")  # softphone/recorder.py: left = agent, right = debtor
MONO_PARTIES = ("mixed",)  # one channel: who spoke cannot be told apart


class PcmAudio(Protocol):
    """Interleaved signed PCM and its layout; pydub's AudioSegment is one."""

    raw_data: bytes
    frame_rate: int
    sample_width: int
    channels: int


@dataclass(frozen=True)
class AudioAnalysis:
    """What a recording holds: its length, who talked how long, where nobody did, and its shape."""

    duration_s: float
    talk_s: dict[str, float] = field(hash=False)
    silences: tuple[tuple[float, float], ...]  # (start_s, end_s), each at least min_silence_s long
    waveform: tuple[float, ...]  # peak per bucket over both channels, 0..1 of full scale
    level_dbfs: dict[str, float | None] = field(hash=False)  # RMS while the party talks; None: never talked
    peak_dbfs: dict[str, float | None] = field(hash=False)  # None: digital silence
    min_silence_s: float

    @property
    def longest_silence_s(self) -> float:
        """The longest silence listed, 0.0 if none."""
        return max((end - start for start, end in self.silences), default=0.0)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times rounded to the millisecond)."""
        return {
            "duration_s": round(self.duration_s, 3),
            "talk_s": {party: round(s, 3) for party, s in self.talk_s.items()},
            "silences": [[round(start, 3), round(end, 3)] for start, end in self.silences],
            "waveform": [round(v, 3) for v in self.waveform],
            "level_dbfs": {party: _round(v, 1) for party, v in self.level_dbfs.items()},
            "peak_dbfs": {party: _round(v, 1) for party, v in self.peak_dbfs.items()},
            "min_silence_s": self.min_silence_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AudioAnalysis:
        """The inverse of `to_json`."""
        return cls(
            duration_s=float(data["duration_s"]),
            talk_s={party: float(s) for party, s in data["talk_s"].items()},
            silences=tuple((float(start), float(end)) for start, end in data["silences"]),
            waveform=tuple(float(v) for v in data["waveform"]),
            level_dbfs=dict(data["level_dbfs"]),
            peak_dbfs=dict(data["peak_dbfs"]),
            min_silence_s=float(data["min_silence_s"]),
        )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def parties(audio: PcmAudio) -> tuple[str, ...]:
    """The party on each channel, in channel order."""
    if audio.channels == 2:
        return STEREO_PARTIES
    if audio.channels == 1:
        return MONO_PARTIES
    raise ValueError(f"expected a mono or stereo recording, got {audio.channels} channels")


def channel(audio: PcmAudio, index: int) -> bytes:
    """One channel's samples as mono PCM."""
    if audio.channels == 1:
        return audio.raw_data
    return audioop.tomono(audio.raw_data, audio.sample_width, 1 - index, index)


def full_scale(sample_width: int) -> int:
    """The largest sample magnitude for a sample width in bytes."""
    return 1 << (8 * sample_width - 1)


def dbfs(value: float, sample_width: int) -> float | None:
    """A sample magnitude (peak or RMS) in dB relative to full scale; None for zero."""
    return 20 * math.log10(value / full_scale(sample_width)) if value > 0 else None


def window_rms(mono: bytes, sample_width: int, frames_per_window: int) -> list[int]:
    """RMS of each consecutive window (the last one may be shorter)."""
    view, step = memoryview(mono), frames_per_window * sample_width
    return [audioop.rms(view[i:i + step], sample_width) for i in range(0, len(mono), step)]


def talk_runs(active: list[bool], hangover: int, min_talk: int) -> list[tuple[int, int]]:
    """Half-open window ranges of talk: gaps shorter than `hangover` bridged, then blips under `min_talk` dropped."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, on in enumerate([*active, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            # A hangover that bridges gaps but does not lengthen the last burst keeps talk times honest.
            if runs and start - runs[-1][1] < hangover:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((start, i))
            start = None
    return [(a, b) for a, b in runs if b - a >= min_talk]


def gaps(runs: list[tuple[int, int]], total: int, minimum: int) -> list[tuple[int, int]]:
    """Half-open window ranges covered by none of `runs` and at least `minimum` long."""
    found, cursor = [], 0
    for start, end in sorted(runs):
        if start - cursor >= minimum:
            found.append((cursor, start))
        cursor = max(cursor, end)
    if total - cursor >= minimum:
        found.append((cursor, total))
    return found


def waveform(audio: PcmAudio, points: int = 200) -> tuple[float, ...]:
    """`points` peaks (0..1 of full scale) over both channels, evenly spaced in time."""
    data, width, frame_width = audio.raw_data, audio.sample_width, audio.sample_width * audio.channels
    frames, scale = len(data) // frame_width, full_scale(width)
    view, peaks = memoryview(data), []
    for i in range(points):
        a, b = frames * i // points, frames * (i + 1) // points
        # Interleaved samples of both channels: one max() covers agent and debtor alike.
        peaks.append(audioop.max(view[a * frame_width:b * frame_width], width) / scale if b > a else 0.0)
    return tuple(min(peak, 1.0) for peak in peaks)


def analyse(audio: PcmAudio, *, min_silence_s: float = 3.0, threshold_dbfs: float = -45.0, window_s: float = 0.02,
            hangover_s: float = 0.3, min_talk_s: float = 0.1, points: int = 200) -> AudioAnalysis:
    """Talk per party from windowed RMS above `threshold_dbfs`; silences where neither party talks."""
    names, width = parties(audio), audio.sample_width
    frames = len(audio.raw_data) // (width * audio.channels)
    duration_s = frames / audio.frame_rate
    frames_per_window = max(1, round(window_s * audio.frame_rate))
    window = frames_per_window / audio.frame_rate
    windows = math.ceil(frames / frames_per_window)
    threshold = full_scale(width) * 10 ** (threshold_dbfs / 20)
    hangover, min_talk = round(hangover_s / window), max(1, round(min_talk_s / window))

    def seconds(index: int) -> float:
        return min(index * window, duration_s)  # the last window may be short

    talk_s: dict[str, float] = {}
    level_dbfs: dict[str, float | None] = {}
    peak_dbfs: dict[str, float | None] = {}
    all_runs: list[tuple[int, int]] = []
    for index, name in enumerate(names):
        mono = channel(audio, index)
        rms = window_rms(mono, width, frames_per_window)
        runs = talk_runs([r >= threshold for r in rms], hangover, min_talk)
        all_runs.extend(runs)
        talk_s[name] = sum(seconds(b) - seconds(a) for a, b in runs)
        spoken = [rms[i] ** 2 for a, b in runs for i in range(a, b) if rms[i] >= threshold]
        level_dbfs[name] = dbfs(math.sqrt(sum(spoken) / len(spoken)), width) if spoken else None
        peak_dbfs[name] = dbfs(audioop.max(mono, width), width)

    minimum = max(1, math.ceil(min_silence_s / window - 1e-9))
    silences = tuple((seconds(a), seconds(b)) for a, b in gaps(all_runs, windows, minimum)
                     if seconds(b) - seconds(a) >= min_silence_s - 1e-9)
    return AudioAnalysis(duration_s=duration_s, talk_s=talk_s, silences=silences, waveform=waveform(audio, points),
                         level_dbfs=level_dbfs, peak_dbfs=peak_dbfs, min_silence_s=min_silence_s)
