"""VideoSDK's FallbackTTS / FallbackSTT over two Smallest instances, with emulator faults:
switch to the second on a failure and back once the first recovers, every word spoken or
transcribed once, no socket left open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from videosdk.agents import FallbackSTT, FallbackTTS, FlushMarker, SpeechEventType, audio_format
from videosdk_kit import FakeTrack, bounded, fast_config, tokens, wait_for
from videosdk_stt_kit import Collector, feed, silence, speech

from smallest_emulator import Emulator
from smallest_videosdk import SmallestAISTT, SmallestAITTS, SmallestAITTSV4

COOLDOWN_S = 0.05
ROOM_TIME_S = 1.2


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Emulator, Emulator]]:
    async with Emulator(config=fast_config()) as first, Emulator(config=fast_config()) as second:
        yield first, second


def spoken(emu: Emulator) -> list[tuple[str, bytes]]:
    return [(r.text.strip(), bytes(r.pcm)) for r in emu.tts_log]


@pytest.mark.parametrize("tts_class", [SmallestAITTS, SmallestAITTSV4])
async def test_fallback_tts_switches_and_comes_back_without_losing_a_word(
    pair: tuple[Emulator, Emulator], tts_class: type[Any]
) -> None:
    first, second = pair
    tts = FallbackTTS(
        [tts_class(base_url=first.base_url), tts_class(base_url=second.base_url)],
        temporary_disable_sec=COOLDOWN_S,
    )
    track = FakeTrack()
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = track  # propagated to both providers by FallbackTTS
    errors: list[str] = []
    tts.on("error", lambda message: errors.append(message))
    try:
        first.config.http_status = 503  # the first refuses every upgrade
        await bounded(tts.synthesize(tokens("Hello there", ", friend.", FlushMarker())))
        assert errors and "Service temporarily unavailable" in errors[0]
        assert first.tts_log == []
        assert [text for text, _ in spoken(second)] == ["Hello there, friend."]
        first.config.http_status = None
        await asyncio.sleep(COOLDOWN_S * 2)
        await bounded(tts.synthesize(tokens("Back on the first.", FlushMarker())))
        assert [text for text, _ in spoken(first)] == ["Back on the first."]
        assert bytes(track.audio) == spoken(second)[0][1] + spoken(first)[0][1]
    finally:
        await bounded(tts.aclose())
    for emu in pair:
        await bounded(wait_for(lambda emu=emu: emu.ws_connections.open_now == 0))


async def test_fallback_stt_switches_and_comes_back(pair: tuple[Emulator, Emulator]) -> None:
    first, second = pair
    first.config.transcript = ("on the first",)
    second.config.transcript = ("on the second",)
    audio_format.publish(16000, 1)
    stt = FallbackSTT(
        [
            SmallestAISTT(base_url=first.base_url, eou_timeout_ms=300),
            SmallestAISTT(base_url=second.base_url, eou_timeout_ms=300),
        ],
        temporary_disable_sec=COOLDOWN_S,
    )
    got = Collector(stt)
    utterance = speech(0.6, 16000) + silence(0.5, 16000)
    try:
        first.config.http_status = 503
        await feed(stt, utterance, 16000)
        await bounded(wait_for(lambda: stt.active_provider is stt.providers[1]))
        await feed(stt, utterance, 16000)
        await got.until_finals(1)
        first.config.http_status = None
        await asyncio.sleep(ROOM_TIME_S)  # a room feeds in real time: the utterance lasts 1.1 s
        await feed(stt, utterance, 16000)
        await got.until_finals(2)
        assert stt.active_provider is stt.providers[0]
        # closing waits for each stream's last transcript: anything stale is in by then
        await bounded(stt.aclose())
        assert [f.data.text for f in got.finals()] == ["on the second", "on the first"]
        assert got.kinds().count(SpeechEventType.START) == 2
        assert any("Service temporarily unavailable" in e for e in got.errors)
        # the first got only the audio given to it after it came back (within a 50 ms frame)
        assert abs(sum(r.audio_bytes for r in first.stt_log) - len(utterance)) <= 1600
    finally:
        await bounded(stt.aclose())
    for emu in pair:
        await bounded(wait_for(lambda emu=emu: emu.ws_connections.open_now == 0))
