"""Server errors end the turn promptly: emitted with the server's message, then raised."""

from __future__ import annotations

import time

import pytest
from videosdk.agents import FlushMarker
from videosdk_kit import PROFILES, bounded, make_tts, tokens

from smallest_core import SmallestError
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAITTS


async def _failing_turn(tts: SmallestAITTS, *parts: str) -> tuple[list[str], float]:
    errors: list[str] = []
    tts.on("error", lambda message: errors.append(message))
    started = time.monotonic()
    with pytest.raises(SmallestError):
        await bounded(tts.synthesize(tokens(*parts, FlushMarker())), 5.0)
    return errors, time.monotonic() - started


@pytest.mark.parametrize("profile", PROFILES)
async def test_mid_stream_server_error_ends_the_turn(emu: Emulator, profile: str) -> None:
    overrides = {"error_after_chunks": 2, "error_message": "Internal server error"}
    tts, track = make_tts(emu, profile, overrides=overrides)
    try:
        errors, took = await _failing_turn(tts, "A long enough sentence to span chunks.")
        assert len(errors) == 1
        assert "Internal server error" in errors[0]
        assert took < 1.0
        assert bytes(track.audio) == bytes(emu.tts_log[0].pcm[:2048])
    finally:
        await tts.aclose()


def test_retired_models_fail_at_construction() -> None:
    for model in ("lightning-v2", "lightning-large"):
        with pytest.raises(ValueError, match=r"lightning_v3\.1"):
            SmallestAITTS(api_key="sk_x", model=model)


def test_official_arguments_are_accepted() -> None:
    tts = SmallestAITTS(
        api_key="sk_x",
        model="lightning-v3.1",
        voice_id="magnus",
        language="en",
        sample_rate=24000,
        speed=1.0,
        consistency=0.5,
        similarity=0.0,
        enhancement=1.0,
        sentence_streaming=True,
        base_url="https://api.smallest.ai/waves/v1",
        timeout=30.0,
        enable_streaming=True,
        max_connection_age_sec=300.0,
        complete_backoff_ms=0,
        max_buffer_flush_ms=0,
    )
    assert tts.model == "lightning_v3.1"
    assert tts._account.endpoints.base_url == "https://api.smallest.ai"
    assert "sk_x" not in repr(tts._account)


def test_bad_input_fails_at_construction() -> None:
    with pytest.raises(ValueError):
        SmallestAITTS(api_key="sk_x", sample_rate=22050)
    with pytest.raises(ValueError):
        SmallestAITTS(api_key="sk_x", speed=3.0)
