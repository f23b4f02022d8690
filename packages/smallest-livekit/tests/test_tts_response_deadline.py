"""When the server owes audio: only for text it was sent, never while the LLM is quiet."""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit.agents import APIConnectOptions, APIError
from livekit_kit import collect, expected_pcm, frames_pcm, key

from smallest_emulator import Emulator
from smallest_livekit import TTS

TIMEOUT_S = 0.3
BUFFER_DELAY_MS = 100


async def test_text_the_server_never_answers_times_out_before_the_input_ends(
    emu: Emulator,
) -> None:
    """The LLM is still producing (no end of input), but the server ignores what it was
    sent: the turn fails after the buffering delay plus the timeout, not never."""
    engine = TTS(
        api_key=key(never_answer="true"), base_url=emu.base_url, max_buffer_delay_ms=BUFFER_DELAY_MS
    )
    try:
        stream = engine.stream(conn_options=APIConnectOptions(timeout=TIMEOUT_S, max_retry=0))
        stream.push_text("Nobody answers this, and the LLM has more to say")
        started = time.perf_counter()
        with pytest.raises(APIError, match="no answer from Smallest TTS"):
            await asyncio.wait_for(collect(stream), 10)
        took = time.perf_counter() - started
        await stream.aclose()
    finally:
        await engine.aclose()
    assert TIMEOUT_S + BUFFER_DELAY_MS / 1000 <= took < 5.0


async def test_a_quiet_llm_after_answered_text_is_not_a_timeout(emu: Emulator) -> None:
    engine = TTS(api_key=key(), base_url=emu.base_url, max_buffer_delay_ms=BUFFER_DELAY_MS)
    errors: list[object] = []
    engine.on("error", errors.append)
    try:
        stream = engine.stream(conn_options=APIConnectOptions(timeout=TIMEOUT_S, max_retry=0))
        stream.push_text("The first sentence is answered at once.")
        collecting = asyncio.ensure_future(collect(stream))
        await asyncio.sleep(4 * TIMEOUT_S)  # the LLM thinks, longer than the timeout
        stream.push_text(" Then it goes on.")
        stream.end_input()
        events = await asyncio.wait_for(collecting, 10)
        await stream.aclose()
    finally:
        await engine.aclose()
    assert errors == []
    assert frames_pcm(events) == expected_pcm(emu)
