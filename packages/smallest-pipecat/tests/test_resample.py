"""TTS audio at another rate than the synthesis: filtered, not folded back as aliasing."""

import math
from array import array

import pytest

from smallest_core.audio import Resampler
from smallest_pipecat._resample import stream_resampler

RATE_IN = 24000


def tone(freq: float, seconds: float = 0.5) -> bytes:
    n = int(RATE_IN * seconds)
    return array(
        "h", (int(12000 * math.sin(2 * math.pi * freq * i / RATE_IN)) for i in range(n))
    ).tobytes()


def rms(pcm: bytes) -> float:
    samples = array("h")
    samples.frombytes(pcm)
    body = samples[len(samples) // 10 : -len(samples) // 10]  # skip the filters' edges
    return math.sqrt(sum(s * s for s in body) / max(1, len(body)))


def through(resampler, pcm: bytes) -> bytes:
    pieces = [resampler.process(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]
    return b"".join(pieces) + resampler.flush()


@pytest.mark.parametrize("out_rate", [16000, 8000])
def test_content_above_the_new_nyquist_is_removed_not_folded(out_rate):
    above = out_rate / 2 + 1500  # inaudible after conversion if filtered, aliased if not
    pcm = tone(above)
    filtered = rms(through(stream_resampler(RATE_IN, out_rate), pcm))
    linear = rms(through(Resampler(RATE_IN, out_rate), pcm))
    level = rms(pcm)
    # measured: soxr leaves -83 dB (16 kHz) / -84 dB (8 kHz); linear interpolation -2.6 / 0 dB
    assert 20 * math.log10(max(filtered, 1e-9) / level) < -40
    assert 20 * math.log10(linear / level) > -20


@pytest.mark.parametrize("out_rate", [16000, 8000, 44100])
def test_speech_band_audio_keeps_its_level_and_length(out_rate):
    pcm = tone(1000)
    out = through(stream_resampler(RATE_IN, out_rate), pcm)
    assert abs(len(out) / 2 - len(pcm) / 2 * out_rate / RATE_IN) <= 2
    assert abs(20 * math.log10(rms(out) / rms(pcm))) < 0.5


def test_odd_byte_pieces_are_carried_not_dropped():
    pcm = tone(1000, 0.1)
    r = stream_resampler(RATE_IN, 16000)
    out = b"".join(r.process(pcm[i : i + 7]) for i in range(0, len(pcm), 7)) + r.flush()
    assert abs(len(out) / 2 - len(pcm) / 2 * 16000 / RATE_IN) <= 2
