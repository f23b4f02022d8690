"""Fixtures: the emulator, a fake VideoSDK audio track, helpers to drive turns."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from emulator_helpers import emulator_key
from videosdk.agents import FlushMarker, audio_format

from smallest_emulator import Emulator, EmulatorConfig
from smallest_emulator.config import PROFILES
from smallest_videosdk import SmallestAISTT, SmallestAITTS

__all__ = ["PROFILES"]


class FakeTrack:
    """Stands in for VideoSDK's 24 kHz agent track: async ``add_new_bytes``, sync ``interrupt``.

    ``pushes`` records (monotonic time, bytes) for a real-time playback simulation.
    """

    sample_rate = 24000

    def __init__(self) -> None:
        self.audio = bytearray()
        self.pushes: list[tuple[float, int]] = []
        self.interrupts = 0
        self.on_push: Callable[[], None] | None = None

    async def add_new_bytes(self, audio_data: bytes) -> None:
        self.audio += audio_data
        self.pushes.append((time.monotonic(), len(audio_data)))
        if self.on_push is not None:
            self.on_push()

    def interrupt(self) -> None:
        self.interrupts += 1

    def dead_air_s(self, rate: int = 24000) -> float:
        """Silence a real-time player would insert between the first and last push."""
        dead = 0.0
        play_end: float | None = None
        for when, size in self.pushes:
            if play_end is not None and when > play_end:
                dead += when - play_end
            start = when if play_end is None else max(play_end, when)
            play_end = start + size / 2 / rate
        return dead


def fast_config(**kw: Any) -> EmulatorConfig:
    """Unpaced, no complete backoff: fast tests."""
    base: dict[str, Any] = {"speed": 0.0, "complete_backoff_ms": 0}
    base.update(kw)
    return EmulatorConfig(**base)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(config=fast_config()) as e:
        yield e


def key_for(profile: str, **overrides: Any) -> str:
    """An emulator key selecting ``profile`` with per-connection overrides."""
    return emulator_key("sk_test", profile, **overrides)


def make_tts(emu: Emulator, profile: str = "default", **kw: Any) -> tuple[SmallestAITTS, FakeTrack]:
    overrides = kw.pop("overrides", {})
    api_key = kw.pop("api_key", None) or key_for(profile, **overrides)
    tts = SmallestAITTS(api_key=api_key, base_url=emu.base_url, **kw)
    track = FakeTrack()
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = track
    return tts, track


async def tokens(*parts: str | FlushMarker, delay: float = 0.0) -> AsyncIterator[str | FlushMarker]:
    """An LLM-like token stream."""
    for part in parts:
        if delay:
            await asyncio.sleep(delay)
        yield part


async def wait_for(predicate: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Wait until ``predicate()`` holds (checked on every loop turn), or fail."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def bounded(coro: Awaitable[Any], limit_s: float = 10.0) -> Any:
    return await asyncio.wait_for(coro, limit_s)


@pytest.fixture(autouse=True)
def _reset_audio_format() -> None:
    audio_format.reset()


def make_stt(emu: Emulator, profile: str = "default", **kw: Any) -> SmallestAISTT:
    overrides = kw.pop("overrides", {})
    return SmallestAISTT(api_key=key_for(profile, **overrides), base_url=emu.base_url, **kw)


@contextlib.contextmanager
def full_collections() -> Iterator[list[float]]:
    """Record the start time of every full (generation 2) garbage collection inside."""
    seen: list[float] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(time.monotonic())

    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)
