"""HTTP synthesis in a pipeline: byte-exact streamed audio, one error + one stop on failure."""

from __future__ import annotations

import time

from pipecat.frames.frames import (
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSTextFrame,
    TTSUpdateSettingsFrame,
)
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness

from smallest_emulator import Emulator
from smallest_emulator.engines import deterministic
from smallest_pipecat import SmallestHttpTTSService

TEXT = "Plain HTTP synthesis, streamed as it is decoded."


def make_http(emu: Emulator, key: str = "sk_test", voice: str = "sophia") -> SmallestHttpTTSService:
    return SmallestHttpTTSService(
        api_key=key,
        base_url=emu.base_url,
        settings=SmallestHttpTTSService.Settings(voice=voice, language=Language.EN, speed=1.25),
    )


async def test_http_audio_is_byte_exact(emulator: Emulator, profile: str) -> None:
    tts = make_http(emulator)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(TEXT))
        await h.end()
    (record,) = emulator.tts_log
    assert record.transport == "http"
    expected = deterministic.synthesize(record.text, 24000, 1.25, voice_id="sophia").pcm
    assert h.audio() == expected == bytes(record.pcm)
    assert len(h.down.of(TTSStoppedFrame)) == 1
    assert [f.text for f in h.down.of(TTSTextFrame)] == [TEXT]
    assert not h.errors()


async def test_http_error_then_recovery(emulator: Emulator, profile: str) -> None:
    tts = make_http(emulator, voice="no_such_voice")
    async with Harness(tts) as h:
        sent = time.monotonic()
        await h.send(TTSSpeakFrame("Rejected."))
        await h.wait_for(lambda: len(h.stops()) == 1)
        took = time.monotonic() - sent
        await h.send(TTSUpdateSettingsFrame(delta=SmallestHttpTTSService.Settings(voice="sophia")))
        await h.send(TTSSpeakFrame(TEXT))
        await h.end()
    errors = h.errors()
    assert len(errors) == 1
    assert "Invalid Voice ID" in errors[0].error or "InvalidRequest" in errors[0].error
    assert len(h.stops()) == 2
    assert "Rejected." not in [f.text for f in h.down.of(TTSTextFrame)]
    assert h.audio()
    assert took < 1.5  # the failed turn ends at once, not on Pipecat's 3 s quiet timer


async def test_every_turn_after_a_rejected_key_ends_at_once(default_emulator: Emulator) -> None:
    tts = make_http(default_emulator, key="sk_invalid_key")
    async with Harness(tts) as h:
        for n, text in enumerate(["First turn.", "Second turn.", "Third turn."], start=1):
            sent = time.monotonic()
            await h.send(TTSSpeakFrame(text))
            await h.wait_for(lambda n=n: len(h.stops()) == n)
            assert time.monotonic() - sent < 1.5  # not Pipecat's 3 s quiet timer
        await h.end()
    (error,) = h.errors()  # Pipecat stops asking an unusable service after the first
    assert "Invalid API key" in error.error
    assert not tts.is_usable
    assert not h.audio()
    assert len(default_emulator.tts_log) <= 1  # no request after the rejection
