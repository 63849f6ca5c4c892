"""Two-party call recording: one mono part per party, merged to a stereo WAV."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment


@dataclass(frozen=True)
class RecordingParts:
    """Where the agent's and the debtor's mono parts are written, and the final file."""

    agent: Path
    debtor: Path
    final: Path

    @classmethod
    def for_call(cls, directory: str | Path, call: str) -> RecordingParts:
        """Paths for one call's recording under `directory`."""
        base = Path(directory)
        base.mkdir(parents=True, exist_ok=True, mode=0o700)  # recorded voices: the service's user only
        return cls(base / f"{call}.agent.part.wav", base / f"{call}.debtor.part.wav", base / f"{call}.wav")


def header_written(path: Path) -> bool:
    """True once pjmedia has finalised a part (it fills the RIFF size when the recorder is destroyed)."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        return True  # nothing to wait for
    return len(head) == 8 and head[4:8] != b"\0\0\0\0"


def _load(path: Path) -> AudioSegment | None:
    if not path.exists() or path.stat().st_size <= 44:
        return None
    with path.open("rb") as f:  # pydub leaves a path's file open
        return AudioSegment.from_wav(f)


def merge_stereo(parts: RecordingParts) -> Path | None:
    """Merge the parts into one stereo WAV (left agent, right debtor); remove the parts."""
    agent, debtor = _load(parts.agent), _load(parts.debtor)
    if agent is None and debtor is None:
        return None
    ref = debtor if debtor is not None else agent
    assert ref is not None
    frame_rate, width = ref.frame_rate, ref.sample_width
    channels = [
        seg.set_frame_rate(frame_rate).set_sample_width(width).set_channels(1)
        if seg is not None
        else AudioSegment(b"", frame_rate=frame_rate, sample_width=width, channels=1)
        for seg in (agent, debtor)
    ]
    # Pad by whole frames, not milliseconds: pydub insists on equal frame counts.
    frames = max(len(seg.raw_data) // width for seg in channels)
    channels = [seg._spawn(seg.raw_data + b"\0" * (frames * width - len(seg.raw_data))) for seg in channels]
    stereo = AudioSegment.from_mono_audiosegments(*channels)
    # Write next to the target and rename, so a reader never sees half a file.
    tmp = parts.final.with_suffix(".wav.tmp")
    stereo.export(tmp, format="wav")
    os.replace(tmp, parts.final)
    for part in (parts.agent, parts.debtor):
        part.unlink(missing_ok=True)
    return parts.final
