"""The streamed turn's receive timeout: it counts server silence, not the length of a turn."""

from __future__ import annotations

import time

import pytest
from livekit.agents import APIConnectOptions, APIError
from livekit_kit import assert_spoke, collect, expected_pcm, frames_pcm, key

from smallest_core.tts_connection import DEFAULT_END_GRACE_S
from smallest_emulator import Emulator
from smallest_livekit import TTS

TIMEOUT_S = 0.3
VOICES = [None, "sophia"]
"""The default voice, and one without word timestamps: its end is decided by a quiet period
after the last ``complete`` (the core's ``end_grace_s``), which is not server silence."""


@pytest.mark.parametrize("voice", VOICES)
async def test_audio_arriving_for_longer_than_the_timeout_is_not_a_timeout(
    emu: Emulator, voice: str | None
) -> None:
    emu.config.speed = 4.0  # paced: the audio below keeps arriving for well over TIMEOUT_S
    engine = TTS(api_key=key(), base_url=emu.base_url, voice_id=voice)
    errors: list[object] = []
    engine.on("error", errors.append)
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
    assert errors == []


@pytest.mark.parametrize("voice", VOICES)
async def test_a_timeout_shorter_than_the_end_grace_is_not_a_timeout(
    emu: Emulator, voice: str | None
) -> None:
    engine = TTS(api_key=key(), base_url=emu.base_url, voice_id=voice)
    errors: list[object] = []
    engine.on("error", errors.append)
    timeout = DEFAULT_END_GRACE_S / 3  # the server answers at once; the grace is the client's
    try:
        for text in ("A first short turn.", "A second short turn."):
            stream = engine.stream(conn_options=APIConnectOptions(timeout=timeout, max_retry=0))
            stream.push_text(text)
            stream.end_input()
            events = await collect(stream)
            await stream.aclose()
            assert_spoke(emu, text)
            assert frames_pcm(events) == expected_pcm(emu)
    finally:
        await engine.aclose()
    assert errors == []
    assert emu.ws_connections.per_route.get("tts") == 1  # no socket was retired


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
