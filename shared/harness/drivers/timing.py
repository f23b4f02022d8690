"""Timed deliveries for the benchmarks: one clock, audio chunks stamped on arrival."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

RATE = 24000
"""Timed TTS turns ask for 24 kHz mono PCM (VideoSDK's fixed track rate)."""
STT_RATE = 16000
STT_FRAME_BYTES = STT_RATE // 50 * 2
"""20 ms of 16-bit mono, as a transport delivers it."""
STALE_WINDOW_S = 0.5
"""After a barge-in, how long audio keeps being recorded: what arrives then is stale."""


def now() -> float:
    """The clock every timestamp uses; the emulator's traces and the Pipecat harness too."""
    return time.monotonic()


@dataclass
class Delivery:
    """What the framework handed on for one utterance, timestamped on arrival."""

    started: float = 0.0
    """When the first token was handed to the framework."""
    pushes: list[tuple[float, int]] = field(default_factory=list)
    """(time, bytes of PCM) per chunk."""
    audio: bytearray = field(default_factory=bytearray)
    words: list[tuple[str, float]] = field(default_factory=list)
    """(word, seconds on the turn's timeline)."""
    word_times: list[tuple[str, float]] = field(default_factory=list)
    """(word, wall time it was handed on)."""

    def add(self, pcm: bytes) -> None:
        if pcm:
            self.pushes.append((now(), len(pcm)))
            self.audio += pcm

    @property
    def first_audio(self) -> float | None:
        return self.pushes[0][0] if self.pushes else None


@dataclass
class Heard:
    """One STT utterance: when the finalize was sent, when (and what) the first final came."""

    finalize_at: float = 0.0
    final_at: float = 0.0
    final_text: str = ""


def playback(pushes: list[tuple[float, int]], rate: int = RATE) -> tuple[float, float, float]:
    """Real-time playback of 16-bit mono ``pushes``: (start, end, dead air) in seconds.

    Playback starts with the first byte; dead air is the time the buffer was empty
    before everything delivered had been played.
    """
    if not pushes:
        return 0.0, 0.0, 0.0
    dead = 0.0
    start = pushes[0][0]
    end = start
    for when, size in sorted(pushes):
        if when > end:
            dead += when - end
            end = when
        end += size / 2 / rate
    return start, end, dead


async def feed(
    push: Callable[[str], Any], end: Callable[[], Any], tokens: list[str], gap_s: float, d: Delivery
) -> None:
    """Hand tokens to a framework at LLM pace (``gap_s`` apart), then end the input."""
    d.started = now()
    for i, tok in enumerate(tokens):
        if i and gap_s:
            await asyncio.sleep(gap_s)
        r = push(tok)
        if asyncio.iscoroutine(r):
            await r
    r = end()
    if asyncio.iscoroutine(r):
        await r


def stt_frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + STT_FRAME_BYTES] for i in range(0, len(pcm), STT_FRAME_BYTES)]


async def paced(frames: list[bytes], realtime: bool) -> AsyncIterator[bytes]:
    """``frames`` 20 ms apart in real time, or as fast as the loop allows."""
    t0 = now()
    for i, f in enumerate(frames):
        if realtime:
            delay = t0 + i * 0.02 - now()
            if delay > 0:
                await asyncio.sleep(delay)
        elif i % 10 == 9:
            await asyncio.sleep(0)
        yield f
