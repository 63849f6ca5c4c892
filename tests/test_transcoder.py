"""Post-processing against the real ffmpeg and ffprobe: transcode, verify, checksum, remove the WAV."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydub import AudioSegment

from dialer.recordings import transcoder
from dialer.recordings.transcoder import (
    ProcessedRecording,
    RecordingCorrupt,
    RecordingError,
    RecordingMissing,
    TranscodeFailed,
    process_recording,
    verify,
)
from tests.test_audioanalysis import call

MAX_BYTES_PER_MINUTE = 200_000


def write_call(path: Path, audio: AudioSegment | None = None) -> Path:
    """Write a generated call (see tests/test_audioanalysis.py) as a WAV, as softphone/recorder.py does."""
    (audio if audio is not None else call()).export(path, format="wav").close()
    return path


def probe(path: Path) -> dict[str, Any]:
    """What ffprobe says about a file, independently of the code under test."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels:format=duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    info: dict[str, Any] = json.loads(out.stdout)
    return info


def decode(path: Path) -> AudioSegment:
    """Decode with ffmpeg to 16 kHz 16-bit PCM."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ar", "16000", "-f", "wav", "-"],
                         capture_output=True, check=True)
    return AudioSegment(data=out.stdout)


def test_a_call_becomes_a_verified_opus_file_and_the_wav_goes(tmp_path: Path) -> None:
    wav = write_call(tmp_path / "call-1.wav")
    result = process_recording(wav)
    assert isinstance(result, ProcessedRecording)
    assert result.path == tmp_path / "call-1.opus" and result.source == wav and result.format == "opus"
    assert not wav.exists()
    info = probe(result.path)
    assert info["streams"][0]["codec_name"] == "opus" and info["streams"][0]["channels"] == 2
    assert float(info["format"]["duration"]) == pytest.approx(20.0, abs=0.5)
    assert result.duration_s == pytest.approx(20.0)
    assert result.size_bytes == result.path.stat().st_size <= MAX_BYTES_PER_MINUTE * 20 / 60
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert sorted(os.listdir(tmp_path)) == ["call-1.opus"]  # no partial file left behind


def test_the_analysis_flags_the_long_silence(tmp_path: Path) -> None:
    result = process_recording(write_call(tmp_path / "call.wav"))
    (start, end), = result.analysis.silences
    assert start == pytest.approx(5.0, abs=0.2) and end == pytest.approx(11.0, abs=0.2)
    assert result.analysis.talk_s == pytest.approx({"agent": 5.0, "debtor": 9.0}, abs=0.2)
    assert result.flags == ["long_silence"]
    assert len(result.analysis.waveform) == 200
    data = json.loads(json.dumps(result.to_json()))
    assert data["flags"] == ["long_silence"] and data["sha256"] == result.sha256


def test_no_flag_when_the_pauses_are_short(tmp_path: Path) -> None:
    wav = write_call(tmp_path / "call.wav", call(agent=[(0, 5)], debtor=[(6, 20)]))
    result = process_recording(wav)
    assert result.flags == [] and result.analysis.silences == ()
    assert process_recording(write_call(wav), min_silence_s=0.5).flags == ["long_silence"]


def test_mp3_into_another_directory_keeping_the_original(tmp_path: Path) -> None:
    wav = write_call(tmp_path / "call.wav")
    result = process_recording(wav, tmp_path / "out" / "mp3", fmt="mp3", keep_original=True)
    assert wav.exists()
    assert result.path == tmp_path / "out" / "mp3" / "call.mp3" and result.format == "mp3"
    info = probe(result.path)
    assert info["streams"][0]["codec_name"] == "mp3"
    assert float(info["format"]["duration"]) == pytest.approx(20.0, abs=0.5)
    assert result.size_bytes <= MAX_BYTES_PER_MINUTE * 20 / 60


def test_a_long_call_stays_under_200_kb_per_minute(tmp_path: Path) -> None:
    # Two parties talking all the time over noise: the most bits a call can ask for.
    audio = call(duration=60, agent=[(0, 60)], debtor=[(0, 60)])
    noise = AudioSegment(random.Random(3).randbytes(len(audio.raw_data)), frame_rate=16000, sample_width=2,
                         channels=2).apply_gain(-20)
    result = process_recording(write_call(tmp_path / "busy.wav", audio.overlay(noise)))
    assert result.size_bytes <= MAX_BYTES_PER_MINUTE


def test_each_party_is_normalised_to_speech_level(tmp_path: Path) -> None:
    quiet = call(amplitude=0.02)  # speech near -37 dBFS: a debtor on a poor line
    result = process_recording(write_call(tmp_path / "quiet.wav", quiet))
    agent, debtor = decode(result.path).split_to_mono()
    for channel, start, end in ((agent, 0, 5), (debtor, 11, 20)):
        speech = channel[start * 1000 + 200:end * 1000 - 200]
        assert speech.dBFS > -26  # raised by some 15 dB towards -20
        assert speech.max_dBFS <= -0.5  # and not clipped
    # The player's waveform is of what it plays: the louder audio.
    assert max(result.analysis.waveform) == pytest.approx(0.02 * 10 ** (17 / 20), rel=0.1)


def test_gain_stops_at_the_peak_ceiling_and_leaves_a_silent_party_alone() -> None:
    assert transcoder.gain_db(-35.0, -25.0) == pytest.approx(15.0)  # speech to -20
    assert transcoder.gain_db(-30.0, -5.0) == pytest.approx(4.0)  # peak to -1
    assert transcoder.gain_db(-70.0, -60.0) == pytest.approx(20.0)  # at most +20 dB
    assert transcoder.gain_db(-10.0, -3.0) == pytest.approx(-10.0)  # too loud: turned down
    assert transcoder.gain_db(None, -65.0) == 0.0


def test_the_wav_is_still_there_while_the_output_is_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = write_call(tmp_path / "call.wav")
    present: list[bool] = []

    def spy(path: Path, expected_s: float, codec_name: str) -> float:
        present.append(wav.exists())
        return verify(path, expected_s, codec_name)

    monkeypatch.setattr(transcoder, "verify", spy)
    process_recording(wav)
    assert present == [True] and not wav.exists()


def test_a_failed_verification_keeps_the_wav_and_removes_the_output(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    wav = write_call(tmp_path / "call.wav")
    before = wav.read_bytes()
    seen: list[Path] = []

    def failing(path: Path, expected_s: float, codec_name: str) -> float:
        seen.append(path)
        assert path.stat().st_size > 0  # the encoded file was there to verify
        raise TranscodeFailed(f"verifying {path.name} failed: simulated")

    monkeypatch.setattr(transcoder, "verify", failing)
    with pytest.raises(TranscodeFailed, match="^verifying call.opus failed: simulated$"):
        process_recording(wav)
    assert seen and not seen[0].exists()
    assert sorted(os.listdir(tmp_path)) == ["call.wav"] and wav.read_bytes() == before


def test_an_encoder_failure_keeps_the_wav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = write_call(tmp_path / "call.wav")
    broken = transcoder.Format("opus", ".opus", "ogg", "libopus", "opus", "24k", ("-no-such-option", "1"))
    monkeypatch.setitem(transcoder.FORMATS, "opus", broken)
    with pytest.raises(TranscodeFailed) as caught:
        process_recording(wav)
    assert "\n" not in str(caught.value) and "no-such-option" in str(caught.value)
    assert str(caught.value).startswith("encoding call.opus failed: ")
    assert sorted(os.listdir(tmp_path)) == ["call.wav"]


def test_verify_decodes_and_checks_the_duration(tmp_path: Path) -> None:
    result = process_recording(write_call(tmp_path / "call.wav"))
    assert verify(result.path, 20.0, "opus") == pytest.approx(20.0, abs=0.5)
    with pytest.raises(TranscodeFailed, match="expected 21.000 s"):
        verify(result.path, 21.0, "opus")
    with pytest.raises(TranscodeFailed, match="no decodable mp3"):
        verify(result.path, 20.0, "mp3")
    garbage = tmp_path / "garbage.opus"
    garbage.write_bytes(random.Random(4).randbytes(4000))
    with pytest.raises(TranscodeFailed, match="garbage.opus"):
        verify(garbage, 20.0, "opus")
    half = tmp_path / "half.opus"
    half.write_bytes(result.path.read_bytes()[: result.size_bytes // 2])
    with pytest.raises(TranscodeFailed):
        verify(half, 20.0, "opus")


def test_a_missing_recording(tmp_path: Path) -> None:
    with pytest.raises(RecordingMissing) as caught:
        process_recording(tmp_path / "nowhere.wav")
    assert str(caught.value) == f"recording missing: {tmp_path / 'nowhere.wav'}"
    assert isinstance(caught.value, RecordingError)
    with pytest.raises(RecordingMissing):
        process_recording(tmp_path)  # a directory


@pytest.mark.parametrize("name, content, reason", [
    ("random.wav", random.Random(5).randbytes(50_000), "not a RIFF/WAVE file"),
    ("empty.wav", b"", "not a RIFF/WAVE file"),
    ("text.wav", b"RIFF....WAVE but then just text", "no data chunk"),
])
def test_a_corrupt_recording(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RecordingCorrupt) as caught:
        process_recording(path)
    message = str(caught.value)
    assert message.startswith(f"recording corrupt: {path}: ") and reason in message and "\n" not in message
    assert path.exists()  # evidence is kept


def test_a_truncated_recording(tmp_path: Path) -> None:
    wav = write_call(tmp_path / "call.wav")
    data = wav.read_bytes()
    wav.write_bytes(data[: len(data) // 2 + 1])  # cut mid-sample, as a crash during the write would
    with pytest.raises(RecordingCorrupt, match="truncated"):
        process_recording(wav)
    assert sorted(os.listdir(tmp_path)) == ["call.wav"]


def test_a_recording_without_audio_frames(tmp_path: Path) -> None:
    wav = write_call(tmp_path / "call.wav", AudioSegment(b"", frame_rate=16000, sample_width=2, channels=2))
    with pytest.raises(RecordingCorrupt, match="no audio frames"):
        process_recording(wav)


def test_an_unknown_format_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'flac'"):
        process_recording(write_call(tmp_path / "call.wav"), fmt="flac")
