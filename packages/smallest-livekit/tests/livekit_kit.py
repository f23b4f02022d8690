"""Fixtures: an in-process emulator, LiveKit's HTTP context, and audio helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from emulator_helpers import emulator_key
from emulator_helpers import expected_pcm as record_pcm
from livekit.agents import tts, utils

from smallest_emulator import Emulator, EmulatorConfig
from smallest_emulator.config import PROFILES

ALL_PROFILES = list(PROFILES)


def fast_config(**kw: Any) -> EmulatorConfig:
    """Unpaced audio and no complete backoff: fast tests."""
    base: dict[str, Any] = {"speed": 0.0, "complete_backoff_ms": 4000, "max_buffer_delay_ms": 0}
    base.update(kw)
    return EmulatorConfig(**base)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(config=fast_config()) as e, utils.http_context.open():
        yield e


def key(profile: str = "default", **overrides: Any) -> str:
    """An emulator API key selecting a profile and per-connection fault overrides.

    Values are percent-encoded (the emulator decodes them): a key holds no whitespace.
    ``close-after-complete`` models a server that closes the socket once a context is
    done, so it sends one ``complete`` per context: closing after the ``complete`` of a
    single release would leave the rest of the context unspoken.
    """
    if profile == "close-after-complete":
        overrides = {"complete_mode": "per-context", **overrides}
    return emulator_key("sk_test", profile, **overrides)


def expected_pcm(emu: Emulator, record_index: int = -1) -> bytes:
    """The audio the deterministic engine produces for a record's releases, recomputed."""
    return record_pcm(emu.tts_log[record_index])


def assert_spoke(emu: Emulator, text: str, record_index: int = -1) -> None:
    """The server synthesized every word the caller gave for that turn, in order."""
    rec = emu.tts_log[record_index]
    assert "".join(rec.releases).split() == text.split()


def frames_pcm(events: list[tts.SynthesizedAudio]) -> bytes:
    """Concatenated PCM, without LiveKit's synthetic 10 ms end-of-segment marker."""
    out = b""
    for ev in events:
        frame = ev.frame
        data = frame.data.tobytes()
        marker = frame.samples_per_channel == frame.sample_rate // 100 and not any(data)
        if ev.is_final and marker:
            continue
        out += data
    return out


async def collect(stream: Any) -> list[tts.SynthesizedAudio]:
    """Every event of a stream (ChunkedStream or SynthesizeStream)."""
    return [ev async for ev in stream]


async def speak(engine: Any, tokens: list[str]) -> list[tts.SynthesizedAudio]:
    """One streamed segment: push every token, end input, collect the audio."""
    async with engine.stream() as stream:
        for token in tokens:
            stream.push_text(token)
        stream.end_input()
        return await collect(stream)


async def until(condition: Callable[[], object], what: str, limit_s: float = 5.0) -> None:
    """Wait (bounded) until ``condition()`` holds, polling every 10 ms."""
    for _ in range(int(limit_s * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")
