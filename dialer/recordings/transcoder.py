"""Recording post-processing: WAV in; analysed, normalised, compact and verified audio out."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydub import AudioSegment
from pydub.audio_segment import extract_wav_headers
from pydub.exceptions import CouldntDecodeError

from .analysis import AudioAnalysis, analyse, parties, waveform

log = logging.getLogger(__name__)

TARGET_LEVEL_DBFS = -20.0  # speech RMS a reviewer hears comfortably (telephone speech sits around -20..-30)
PEAK_CEILING_DBFS = -1.0  # headroom so the lossy encoder's overshoot does not clip
MAX_GAIN_DB = 20.0  # beyond this we would mostly be amplifying line noise
DURATION_TOLERANCE_S = 0.5
PCM_FORMATS = {1: "s8", 2: "s16le", 4: "s32le"}  # pydub holds 8-bit audio signed, 24-bit as 32-bit


class RecordingError(Exception):
    """A recording could not be post-processed."""


class RecordingMissing(RecordingError):
    """The recording file does not exist."""


class RecordingCorrupt(RecordingError):
    """The recording file is not a complete, readable WAV."""


class TranscodeFailed(RecordingError):
    """Encoding failed or the encoded file did not verify."""


@dataclass(frozen=True)
class Format:
    """How one output format is encoded and recognised."""

    name: str
    suffix: str
    container: str  # ffmpeg muxer
    codec: str  # ffmpeg encoder
    codec_name: str  # what ffprobe reports
    bitrate: str
    parameters: tuple[str, ...] = ()


FORMATS = {
    # RFC 7845 §9 recommends .opus for Ogg Opus; 24 kbit/s is 180 kB/min, constrained VBR keeps it there.
    # Complexity 5 instead of 10 nearly halves libopus's CPU on speech (SILK), the difference between
    # 45x and 80x real time here. "voip" keeps SILK: below complexity 7 libopus skips its speech/music
    # detector, and "audio" then picks CELT, which is worse for speech at this rate.
    "opus": Format("opus", ".opus", "ogg", "libopus", "opus", "24k",
                   ("-application", "voip", "-vbr", "constrained", "-compression_level", "5")),
    # MPEG-2 layer III at 16 kHz: 24 kbit/s is the highest CBR rate under 200 kB/min (32 kbit/s is 240 kB/min).
    "mp3": Format("mp3", ".mp3", "mp3", "libmp3lame", "mp3", "24k"),
}


@dataclass(frozen=True)
class ProcessedRecording:
    """A transcoded, verified recording and what its analysis found."""

    source: Path
    path: Path
    format: str
    duration_s: float
    size_bytes: int
    sha256: str
    analysis: AudioAnalysis

    @property
    def flags(self) -> list[str]:
        """Review flags: `long_silence` when a silence of min_silence_s or longer was found."""
        return ["long_silence"] if self.analysis.silences else []

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"source": str(self.source), "path": str(self.path), "format": self.format,
                "duration_s": round(self.duration_s, 3), "size_bytes": self.size_bytes, "sha256": self.sha256,
                "flags": self.flags, "analysis": self.analysis.to_json()}


def load_wav(path: Path) -> AudioSegment:
    """The recording as PCM, or RecordingMissing / RecordingCorrupt."""
    try:
        with path.open("rb") as f:  # pydub leaves a path's file open
            data = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise RecordingMissing(f"recording missing: {path}") from None
    except OSError as exc:
        raise RecordingError(f"recording unreadable: {path}: {exc.strerror}") from None
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RecordingCorrupt(f"recording corrupt: {path}: not a RIFF/WAVE file ({len(data)} bytes)")
    headers = extract_wav_headers(data)
    if not headers or headers[-1].id != b"data":
        raise RecordingCorrupt(f"recording corrupt: {path}: no data chunk")
    declared, present = headers[-1].size, len(data) - headers[-1].position - 8
    if declared > present:  # pydub would silently read what is there
        raise RecordingCorrupt(f"recording corrupt: {path}: truncated, {present} of {declared} audio bytes present")
    try:
        segment = AudioSegment(data=data)
        parties(segment)
    except (CouldntDecodeError, ValueError) as exc:
        raise RecordingCorrupt(f"recording corrupt: {path}: {exc}") from None
    if segment.sample_width not in (1, 2, 4) or len(segment.raw_data) % segment.frame_width:
        raise RecordingCorrupt(f"recording corrupt: {path}: inconsistent sample layout")
    if not segment.raw_data:
        raise RecordingCorrupt(f"recording corrupt: {path}: no audio frames")
    return segment


def gain_db(level_dbfs: float | None, peak_dbfs: float | None) -> float:
    """Gain that brings speech to TARGET_LEVEL_DBFS without the peak passing PEAK_CEILING_DBFS."""
    if level_dbfs is None or peak_dbfs is None:
        return 0.0  # nobody talked on this channel: leave its noise alone
    return min(TARGET_LEVEL_DBFS - level_dbfs, PEAK_CEILING_DBFS - peak_dbfs, MAX_GAIN_DB)


def normalise(segment: AudioSegment, analysis: AudioAnalysis) -> AudioSegment:
    """Each party's speech brought to a common level, peaks kept below the ceiling."""
    gains = [gain_db(analysis.level_dbfs[p], analysis.peak_dbfs[p]) for p in parties(segment)]
    if all(abs(g) < 0.1 for g in gains):
        return segment
    if segment.channels == 1:
        return segment.apply_gain(gains[0])
    # Per channel: the debtor arrives over the trunk often much quieter than the agent's headset.
    left, right = segment.split_to_mono()
    return AudioSegment.from_mono_audiosegments(left.apply_gain(gains[0]), right.apply_gain(gains[1]))


def encode(segment: AudioSegment, target: Path, spec: Format) -> None:
    """Encode `segment` into `target` with ffmpeg, the PCM piped in."""
    # Not segment.export(): it stages the audio through two temporary files and leaks both when ffmpeg fails.
    command = [AudioSegment.converter, "-nostdin", "-v", "error", "-y",
               "-f", PCM_FORMATS[segment.sample_width], "-ar", str(segment.frame_rate), "-ac", str(segment.channels),
               "-i", "pipe:0", "-c:a", spec.codec, "-b:a", spec.bitrate, *spec.parameters, "-f", spec.container,
               str(target)]
    try:
        run = subprocess.run(command, input=segment.raw_data, capture_output=True)
    except OSError as exc:
        raise TranscodeFailed(f"encoding {target.name} failed: {exc.strerror}: {command[0]}") from None
    if run.returncode != 0:
        message = _one_line(run.stderr.decode(errors="replace")) or f"ffmpeg exit status {run.returncode}"
        raise TranscodeFailed(f"encoding {target.name} failed: {message}")


def verify(path: Path, expected_s: float, codec_name: str, tolerance_s: float = DURATION_TOLERANCE_S) -> float:
    """Decode every frame with ffprobe; return the duration, or TranscodeFailed."""
    command = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "a:0",
               "-show_entries", "stream=codec_name,nb_read_frames:format=duration", "-of", "json", str(path)]
    try:
        probe = subprocess.run(command, capture_output=True, text=True)
    except OSError as exc:
        raise TranscodeFailed(f"verifying {path.name} failed: {exc.strerror}: {command[0]}") from None
    if probe.returncode != 0 or probe.stderr.strip():
        raise TranscodeFailed(f"verifying {path.name} failed: {_one_line(probe.stderr) or 'ffprobe error'}")
    info = json.loads(probe.stdout or "{}")
    streams = info.get("streams") or [{}]
    if streams[0].get("codec_name") != codec_name or int(streams[0].get("nb_read_frames") or 0) == 0:
        raise TranscodeFailed(f"verifying {path.name} failed: no decodable {codec_name} audio")
    duration = float(info.get("format", {}).get("duration") or "nan")
    if not abs(duration - expected_s) <= tolerance_s:
        raise TranscodeFailed(f"verifying {path.name} failed: lasts {duration:.3f} s, expected {expected_s:.3f} s")
    return duration


def checksum(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _one_line(text: str, limit: int = 300) -> str:
    line = "; ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def process_recording(wav_path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None, *,
                      fmt: str = "opus", min_silence_s: float = 3.0, keep_original: bool = False) -> ProcessedRecording:
    """Analyse, normalise, transcode and verify one WAV; remove the WAV only once its copy verified."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    spec, source = FORMATS[fmt], Path(wav_path)
    segment = load_wav(source)
    analysis = analyse(segment, min_silence_s=min_silence_s)
    played = normalise(segment, analysis)
    # The player draws what it plays: the waveform is of the normalised audio.
    analysis = replace(analysis, waveform=waveform(played, len(analysis.waveform)))
    target = Path(out_dir if out_dir is not None else source.parent) / f"{source.stem}{spec.suffix}"
    # A hidden name in the same directory, so os.replace is atomic and no reader sees half a file.
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        encode(played, partial, spec)
        verify(partial, analysis.duration_s, spec.codec_name)
        sha256, size = checksum(partial)
        os.replace(partial, target)
    except TranscodeFailed as exc:
        partial.unlink(missing_ok=True)
        raise TranscodeFailed(str(exc).replace(partial.name, target.name)) from None
    except OSError as exc:  # disk full, read-only directory
        partial.unlink(missing_ok=True)
        raise TranscodeFailed(f"writing {target} failed: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if not keep_original:
        try:
            source.unlink()
        except OSError as exc:  # the copy is good; a WAV left behind is a disk-space matter, not a failure
            log.warning("could not remove %s after transcoding: %s", source, exc.strerror)
    return ProcessedRecording(source=source, path=target, format=spec.name, duration_s=analysis.duration_s,
                              size_bytes=size, sha256=sha256, analysis=analysis)
