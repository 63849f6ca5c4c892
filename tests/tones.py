"""Which tones a recorded channel holds: the Goertzel filter, for tests that tell parties apart by pitch."""

from __future__ import annotations

import math
from array import array


def tone_share(segment, frequency: float) -> float:
    """The share (0–1) of a mono pydub segment's energy at `frequency`: about 1 for a pure tone, 0 if absent."""
    samples = array("h", segment.raw_data) if segment.sample_width == 2 else array("h")
    n = len(samples)
    energy = sum(x * x for x in samples)
    if n == 0 or energy == 0:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * frequency / segment.frame_rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2 * power / (n * energy)
