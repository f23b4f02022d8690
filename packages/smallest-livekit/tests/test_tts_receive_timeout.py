"""The streamed turn's receive timeout: it counts server silence, not the length of a turn."""

from __future__ import annotations

import time

import pytest
from livekit.agents import APIConnectOptions, APIError

from conftest import collect, expected_pcm, frames_pcm, key
from smallest_emulator import Emulator
from smallest_livekit import TTS

TIMEOUT_S = 0.3


async def test_audio_arriving_for_longer_than_the_timeout_is_not_a_timeout(
    emu: Emulator,
) -> None:
    emu.config.speed = 4.0  # paced: the audio below keeps arriving for well over TIMEOUT_S
    engine = TTS(api_key=key(), base_url=emu.base_url)
    try:
        stream = engine.stream(conn_options=APIConnectOptions(timeout=TIMEOUT_S, max_retry=0))
        stream.push_text(" ".join(f"Sentence number {i} keeps the audio going." for i in range(3)))
        stream.end_input()
        started = time.perf_counter()
        events = await collect(stream)
        took = time.perf_counter() - started
        await stream.aclose()
    finally:
        await engine.aclose()
    assert took > 2 * TIMEOUT_S  # the turn outlasted the timeout...
    assert frames_pcm(events) == expected_pcm(emu)  # ...and every byte arrived


async def test_a_silent_server_times_out(emu: Emulator) -> None:
    engine = TTS(api_key=key(never_answer="true"), base_url=emu.base_url)
    try:
        stream = engine.stream(conn_options=APIConnectOptions(timeout=TIMEOUT_S, max_retry=0))
        stream.push_text("Nobody answers this.")
        stream.end_input()
        started = time.perf_counter()
        with pytest.raises(APIError, match="no answer from Smallest TTS"):
            await collect(stream)
        took = time.perf_counter() - started
        await stream.aclose()
    finally:
        await engine.aclose()
    assert TIMEOUT_S <= took < TIMEOUT_S + 1.0
