"""LiveKit's FallbackAdapter over our TTS and STT: a failing first instance hands over to
the second with no audio lost or doubled, and no socket left open."""

from __future__ import annotations

import asyncio

from livekit.agents import stt, tts
from livekit_kit import expected_pcm, frames_pcm, key, speak, until
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_livekit import STT, TTS, LightningV4TTS

EV = stt.SpeechEventType


async def _no_open_sockets(emu: Emulator) -> None:
    await until(lambda: not emu.state.open_sockets, "every socket to close")


async def test_tts_falls_back_before_any_audio_and_plays_each_turn_once(emu: Emulator) -> None:
    broken = TTS(api_key=key(http_status=503), base_url=emu.base_url)
    healthy = TTS(api_key=key(), base_url=emu.base_url)
    adapter = tts.FallbackAdapter([broken, healthy], max_retry_per_tts=0)
    try:
        for text in ("The first turn.", "The second turn."):
            events = await speak(adapter, [text])
            assert emu.tts_log[-1].text == text
            assert frames_pcm(events) == expected_pcm(emu)  # once, byte-exact
        assert len(emu.tts_log) == 2  # the broken instance synthesized nothing
    finally:
        await adapter.aclose()
        await broken.aclose()
        await healthy.aclose()
    await _no_open_sockets(emu)


async def test_lightning_v4_without_access_falls_back_to_v31(emu: Emulator) -> None:
    v4 = LightningV4TTS(api_key=key(v4_access="false"), base_url=emu.base_url, sample_rate=24000)
    v31 = TTS(api_key=key(), base_url=emu.base_url, sample_rate=24000)
    adapter = tts.FallbackAdapter([v4, v31], max_retry_per_tts=0)
    try:
        events = await speak(adapter, ["Hello from the fallback."])
    finally:
        await adapter.aclose()
        await v4.aclose()
        await v31.aclose()
    assert [r.transport for r in emu.tts_log] == ["ws"]
    assert frames_pcm(events) == expected_pcm(emu)
    await _no_open_sockets(emu)


async def test_stt_falls_back_and_transcribes_the_utterance_once(emu: Emulator) -> None:
    broken = STT(api_key=key(http_status=503), base_url=emu.base_url)
    healthy = STT(api_key=key(transcript="hello big world"), base_url=emu.base_url)
    adapter = stt.FallbackAdapter([broken, healthy], max_retry_per_stt=0)
    silence = frames(b"\0\0" * 1600)[0]
    audio = frames(utterance("hello big world"))
    try:
        async with asyncio.timeout(20):
            stream = adapter.stream()
            pushed = 0
            while not emu.stt_log:  # live audio keeps coming while the adapter switches
                stream.push_frame(silence)
                pushed += len(silence.data.tobytes())
                await asyncio.sleep(0.05)
            switched_at = emu.stt_log[0].audio_bytes
            for frame in audio:
                stream.push_frame(frame)
            stream.end_input()
            events = [ev async for ev in stream]
            await stream.aclose()
    finally:
        await adapter.aclose()
        await broken.aclose()
        await healthy.aclose()
    finals = [ev.alternatives[0].text for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert finals == ["hello big world"]
    assert len(emu.stt_log) == 1  # the broken instance never got a session
    spoken = sum(len(f.data.tobytes()) for f in audio)
    assert emu.stt_log[0].audio_bytes - switched_at >= spoken  # all of the utterance
    assert emu.stt_log[0].audio_bytes <= pushed + spoken  # and nothing twice
    await _no_open_sockets(emu)
