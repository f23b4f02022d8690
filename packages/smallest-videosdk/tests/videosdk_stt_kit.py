"""Helpers shared by this suite's test modules."""

from __future__ import annotations

import asyncio
from array import array

from videosdk.agents import SpeechEventType, STTResponse
from videosdk_kit import bounded, wait_for

from smallest_videosdk import SmallestAISTT


def speech(seconds: float, rate: int, channels: int = 1) -> bytes:
    """A loud tone the emulator's VAD counts as speech."""
    n = int(seconds * rate)
    samples = array(
        "h", [8000 if (i // 8) % 2 else -8000 for i in range(n) for _ in range(channels)]
    )
    return samples.tobytes()


def silence(seconds: float, rate: int, channels: int = 1) -> bytes:
    return b"\x00\x00" * int(seconds * rate) * channels


async def feed(stt: SmallestAISTT, pcm: bytes, rate: int, channels: int = 1) -> None:
    """Deliver audio in 20 ms frames, like the room's input stream."""
    step = rate // 50 * 2 * channels
    for i in range(0, len(pcm), step):
        await stt.process_audio(pcm[i : i + step])


class Collector:
    def __init__(self, stt: SmallestAISTT) -> None:
        self.events: list[STTResponse] = []
        self.errors: list[str] = []
        self.changed = asyncio.Event()
        stt.on_stt_transcript(self._on)
        stt.on("error", lambda message: self.errors.append(message))

    async def _on(self, response: STTResponse) -> None:
        self.events.append(response)
        self.changed.set()

    def kinds(self) -> list[SpeechEventType]:
        return [e.event_type for e in self.events]

    def finals(self) -> list[STTResponse]:
        return [e for e in self.events if e.event_type is SpeechEventType.FINAL]

    async def until_finals(self, count: int) -> None:
        await bounded(wait_for(lambda: len(self.finals()) >= count), 5.0)
