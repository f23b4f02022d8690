"""Speech-shaped test audio for the emulator's recogniser."""

from __future__ import annotations

from livekit import rtc

from smallest_emulator.engines.deterministic import synthesize


def utterance(text: str, rate: int = 16000, silence_s: float = 1.0) -> bytes:
    """Deterministic speech for ``text`` followed by silence (int16 mono)."""
    return synthesize(text, rate).pcm + b"\0\0" * int(rate * silence_s)


def frames(pcm: bytes, rate: int = 16000, channels: int = 1, ms: int = 100) -> list[rtc.AudioFrame]:
    """Split PCM into LiveKit frames (stereo duplicates each sample)."""
    if channels == 2:
        pcm = b"".join(pcm[i : i + 2] * 2 for i in range(0, len(pcm), 2))
    step = rate * ms // 1000 * 2 * channels
    return [
        rtc.AudioFrame(
            data=pcm[i : i + step],
            sample_rate=rate,
            num_channels=channels,
            samples_per_channel=len(pcm[i : i + step]) // (2 * channels),
        )
        for i in range(0, len(pcm), step)
    ]
