"""Talk time, silences, levels and waveform from windowed RMS, on generated call audio."""

from __future__ import annotations

import audioop
import json
import math
import random
from array import array

import pytest
from pydub import AudioSegment

from dialer.recordings.analysis import AudioAnalysis, analyse

RATE = 16000
Spans = list[tuple[float, float]]


def tone(freq: int, samples: int, amplitude: float) -> bytes:
    """A sine of `samples` 16-bit samples; `freq` divides RATE, so one period repeats exactly."""
    period = RATE // freq
    one = array("h", (round(amplitude * 32767 * math.sin(2 * math.pi * i / period)) for i in range(period)))
    return (one.tobytes() * (samples // period + 1))[:samples * 2]


def track(spans: Spans, duration: float, *, freq: int = 200, amplitude: float = 0.3, on: float = 0.25,
          off: float = 0.12, seed: int = 1) -> bytes:
    """One party's mono channel: syllable-like bursts (`on` s of tone, `off` s gap) within each span.

    Every span starts and ends in a burst; the rest is a line-noise floor of about -65 dBFS.
    """
    buf = bytearray(round(duration * RATE) * 2)
    for start, end in spans:
        t = start
        while t < end - 1e-9:
            stop = end if end - (t + on) < on else t + on
            a, b = round(t * RATE), round(stop * RATE)
            buf[a * 2:b * 2] = tone(freq, b - a, amplitude)
            t = stop + off
    noise = audioop.mul(random.Random(seed).randbytes(len(buf)), 2, 0.001)
    return audioop.add(bytes(buf), noise, 2)


def call(duration: float = 20.0, agent: Spans | None = None, debtor: Spans | None = None,
         **options: float) -> AudioSegment:
    """A stereo call, agent left and debtor right; by default the agent talks 0-5 s and the debtor 11-20 s."""
    left = track([(0.0, 5.0)] if agent is None else agent, duration, freq=200, seed=1, **options)
    right = track([(11.0, duration)] if debtor is None else debtor, duration, freq=400, seed=2, **options)
    stereo = audioop.add(audioop.tostereo(left, 2, 1, 0), audioop.tostereo(right, 2, 0, 1), 2)
    return AudioSegment(stereo, frame_rate=RATE, sample_width=2, channels=2)


def test_the_known_gap_is_a_silence_and_talk_times_are_per_party() -> None:
    result = analyse(call())
    assert result.duration_s == pytest.approx(20.0)
    assert len(result.silences) == 1
    start, end = result.silences[0]
    assert start == pytest.approx(5.0, abs=0.2) and end == pytest.approx(11.0, abs=0.2)
    assert result.talk_s["agent"] == pytest.approx(5.0, abs=0.2)
    assert result.talk_s["debtor"] == pytest.approx(9.0, abs=0.2)
    assert result.longest_silence_s == pytest.approx(6.0, abs=0.3)


def test_gaps_between_syllables_count_as_talk_thanks_to_the_hangover() -> None:
    audio = call()
    assert analyse(audio).talk_s["agent"] == pytest.approx(5.0, abs=0.2)
    # Without it only the bursts count: 14 of 250 ms in 5 s.
    assert analyse(audio, hangover_s=0).talk_s["agent"] == pytest.approx(14 * 0.25, abs=0.3)


def test_a_pause_shorter_than_min_silence_is_not_listed() -> None:
    audio = call(agent=[(0, 5)], debtor=[(7, 20)])
    assert analyse(audio).silences == ()
    (start, end), = analyse(audio, min_silence_s=1.5).silences
    assert start == pytest.approx(5.0, abs=0.2) and end == pytest.approx(7.0, abs=0.2)


def test_silences_at_the_start_and_the_end_are_listed() -> None:
    audio = call(agent=[(4, 8)], debtor=[(8.5, 16)])
    silences = analyse(audio).silences
    assert [round(s) for s in silences[0]] == [0, 4]
    assert [round(s) for s in silences[1]] == [16, 20]


def test_a_click_does_not_split_a_silence() -> None:
    audio = call()
    click = audioop.tostereo(tone(200, RATE // 50, 0.5), 2, 1, 1)  # 20 ms, both channels, at 8 s
    at = 8 * RATE * 4
    audio = audio._spawn(audio.raw_data[:at] + click + audio.raw_data[at + len(click):])
    (start, end), = analyse(audio).silences
    assert start == pytest.approx(5.0, abs=0.2) and end == pytest.approx(11.0, abs=0.2)


def test_speech_below_the_threshold_is_silence() -> None:
    audio = call(amplitude=0.003)  # about -53 dBFS RMS
    assert analyse(audio).talk_s == {"agent": 0.0, "debtor": 0.0}
    assert analyse(audio).silences == ((0.0, 20.0),)
    assert analyse(audio, threshold_dbfs=-60).talk_s["debtor"] == pytest.approx(9.0, abs=0.2)


def test_overlapping_talk_counts_for_both_and_leaves_no_silence() -> None:
    result = analyse(call(duration=10, agent=[(0, 10)], debtor=[(0, 10)]))
    assert result.talk_s == pytest.approx({"agent": 10.0, "debtor": 10.0}, abs=0.1)
    assert result.silences == ()


def test_mono_reports_one_mixed_party() -> None:
    mono = AudioSegment(track([(0, 3), (8, 10)], 10), frame_rate=RATE, sample_width=2, channels=1)
    result = analyse(mono)
    assert list(result.talk_s) == ["mixed"]
    assert result.talk_s["mixed"] == pytest.approx(5.0, abs=0.2)
    (start, end), = result.silences
    assert start == pytest.approx(3.0, abs=0.2) and end == pytest.approx(8.0, abs=0.2)


def test_more_than_two_channels_are_refused() -> None:
    quad = AudioSegment(b"\0" * 8 * RATE, frame_rate=RATE, sample_width=2, channels=4)
    with pytest.raises(ValueError, match="4 channels"):
        analyse(quad)


def test_levels_are_the_speech_rms_and_the_peak() -> None:
    result = analyse(call(debtor=[]))
    assert result.level_dbfs["agent"] == pytest.approx(20 * math.log10(0.3 / math.sqrt(2)), abs=1.0)
    assert result.peak_dbfs["agent"] == pytest.approx(20 * math.log10(0.3), abs=0.1)
    assert result.level_dbfs["debtor"] is None  # never talked
    assert result.peak_dbfs["debtor"] == pytest.approx(-65, abs=6)  # the noise floor


def test_the_waveform_follows_the_talk() -> None:
    result = analyse(call(), points=20)  # one point per second
    assert len(result.waveform) == 20
    assert all(0.0 <= v <= 1.0 for v in result.waveform)
    assert all(v == pytest.approx(0.3, abs=0.02) for v in result.waveform[:5] + result.waveform[11:])
    assert all(v < 0.01 for v in result.waveform[5:11])


def test_json_round_trip() -> None:
    result = analyse(call())
    data = json.loads(json.dumps(result.to_json()))
    assert data["silences"] == [[pytest.approx(5.0, abs=0.2), pytest.approx(11.0, abs=0.2)]]
    assert set(data) == {"duration_s", "talk_s", "silences", "waveform", "level_dbfs", "peak_dbfs", "min_silence_s"}
    assert AudioAnalysis.from_json(data).to_json() == data
    assert hash(AudioAnalysis.from_json(data)) == hash(AudioAnalysis.from_json(data))


def test_an_empty_recording_has_nothing_in_it() -> None:
    result = analyse(AudioSegment(b"", frame_rate=RATE, sample_width=2, channels=2), points=4)
    assert (result.duration_s, result.silences, result.waveform) == (0.0, (), (0.0, 0.0, 0.0, 0.0))
    assert result.talk_s == {"agent": 0.0, "debtor": 0.0}
