"""Streamed synthesis over pooled WebSockets: byte-exact audio, reuse, barge-in, pauses."""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit_kit import (
    ALL_PROFILES,
    assert_spoke,
    collect,
    expected_pcm,
    fast_config,
    frames_pcm,
    key,
    speak,
)

from smallest_emulator import Emulator, EmulatorThread
from smallest_livekit import TTS

TOKENS = ["Hello", " ", "world.", " How", " are", " ", "you", " today?"]
LONG = " ".join(["A reply long enough to need many chunks from the server."] * 4)


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_streamed_audio_is_byte_exact(emu: Emulator, profile: str) -> None:
    engine = TTS(api_key=key(profile), base_url=emu.base_url)
    try:
        events = await speak(engine, TOKENS)
    finally:
        await engine.aclose()
    rec = emu.tts_log[-1]
    assert rec.text == "".join(TOKENS)  # every token, whitespace-only ones included
    assert_spoke(emu, "".join(TOKENS))  # and every word was spoken
    assert frames_pcm(events) == expected_pcm(emu)
    assert {ev.segment_id for ev in events} == {events[0].segment_id}
    assert events[-1].is_final


async def test_first_audio_reaches_the_emitter_quickly(emu: Emulator) -> None:
    engine = TTS(api_key=key(), base_url=emu.base_url)
    try:
        engine.prewarm()
        await speak(engine, ["Warm up."])  # the pool holds an open socket from now on
        stream = engine.stream()
        stream.push_text("A prewarmed socket answers.")
        stream.end_input()
        async for _ev in stream:
            first_frame_at = time.perf_counter()
            break
        await stream.aclose()
        server_first_byte = stream.first_audio_received_at
    finally:
        await engine.aclose()
    assert server_first_byte is not None
    delay_ms = (first_frame_at - server_first_byte) * 1000
    print(f"first audio {delay_ms:.2f} ms after the socket received it")
    assert delay_ms < 5.0
    assert emu.ws_connections.per_route.get("tts") == 1


async def test_slow_first_token_is_not_a_timeout(emu: Emulator) -> None:
    from livekit.agents import APIConnectOptions

    engine = TTS(api_key=key(), base_url=emu.base_url)
    try:
        stream = engine.stream(conn_options=APIConnectOptions(timeout=0.2, max_retry=0))
        await asyncio.sleep(0.4)  # the LLM is slow: nothing is sent, nothing times out
        stream.push_text("Finally some text.")
        stream.end_input()
        events = await collect(stream)
        await stream.aclose()
    finally:
        await engine.aclose()
    assert_spoke(emu, "Finally some text.")
    assert frames_pcm(events) == expected_pcm(emu)
    assert emu.ws_connections.per_route.get("tts") == 1


async def test_a_burst_of_chunks_is_pushed_to_the_emitter_in_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from livekit.agents import tts as lk_tts
    from livekit.agents import utils

    pushes: list[int] = []
    push = lk_tts.AudioEmitter.push

    def counting_push(self: lk_tts.AudioEmitter, data: bytes) -> None:
        pushes.append(len(data))
        push(self, data)

    monkeypatch.setattr(lk_tts.AudioEmitter, "push", counting_push)
    # A server on its own thread, unpaced, sends faster than the client reads: bursts.
    with EmulatorThread(fast_config()) as emu:
        async with utils.http_context.open():
            engine = TTS(api_key=key(), base_url=emu.base_url)
            try:
                events = await speak(engine, [LONG])
            finally:
                await engine.aclose()
    rec = emu.tts_log[-1]
    assert frames_pcm(events) == expected_pcm(emu)  # same bytes, in order
    assert sum(pushes) == len(rec.pcm)
    assert len(pushes) < rec.chunks_sent  # a push per socket read's worth, not per chunk
