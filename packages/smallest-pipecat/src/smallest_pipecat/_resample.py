"""Rate conversion for TTS audio: soxr's streaming resampler (the one Pipecat ships).

A linear interpolator folds everything above the new Nyquist back as audible aliasing
(24 kHz speech to 8 kHz telephony); soxr filters it first. The core's dependency-free
:class:`~smallest_core.Resampler` is kept only for an environment without soxr.
"""

from __future__ import annotations

from typing import Protocol

from smallest_core import Resampler


class PcmResampler(Protocol):
    """int16 mono PCM in, int16 mono PCM out, in pieces; ``flush`` ends the stream."""

    def process(self, pcm: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _SoxrStream:
    def __init__(self, in_rate: int, out_rate: int) -> None:
        import numpy as np
        import soxr

        self._np = np
        self._stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality="HQ")
        self._carry = b""

    def process(self, pcm: bytes) -> bytes:
        pcm = self._carry + pcm
        if len(pcm) % 2:
            pcm, self._carry = pcm[:-1], pcm[-1:]
        else:
            self._carry = b""
        if not pcm:
            return b""
        samples = self._np.frombuffer(pcm, dtype=self._np.int16)
        return bytes(self._stream.resample_chunk(samples).tobytes())

    def flush(self) -> bytes:
        empty = self._np.zeros(0, dtype=self._np.int16)
        return bytes(self._stream.resample_chunk(empty, last=True).tobytes())


def stream_resampler(in_rate: int, out_rate: int) -> PcmResampler:
    """A resampler for one stream of audio (one context or one response)."""
    try:
        return _SoxrStream(in_rate, out_rate)
    except ImportError:  # pragma: no cover - soxr comes with pipecat-ai
        return Resampler(in_rate, out_rate)
