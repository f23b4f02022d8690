"""Helpers shared by this suite's test modules."""

from __future__ import annotations

from pipecat.frames.frames import (
    InputAudioRawFrame,
)

from smallest_emulator.engines import deterministic

RATE = 16000


FIRST = "hello there my friend"


SECOND = "how are you today"


def speech(text: str) -> bytes:
    return deterministic.synthesize(text, RATE).pcm


def audio_frames(pcm: bytes, ms: int = 20) -> list[InputAudioRawFrame]:
    step = RATE * 2 * ms // 1000
    return [InputAudioRawFrame(pcm[i : i + step], RATE, 1) for i in range(0, len(pcm), step)]
