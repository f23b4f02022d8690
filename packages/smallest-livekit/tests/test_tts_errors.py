"""Errors: LiveKit error classes, the server's message, retries decided by the core."""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import APIConnectionError, APIConnectOptions, APIError
from livekit_kit import frames_pcm, key

from smallest_emulator import Emulator
from smallest_livekit import TTS

RETRY = APIConnectOptions(max_retry=2, retry_interval=0.0, timeout=5.0)


def _track(engine: TTS) -> list[Any]:
    errors: list[Any] = []
    engine.on("error", errors.append)
    return errors


async def _drain(engine: TTS) -> None:
    async with engine.stream(conn_options=RETRY) as stream:
        stream.push_text("Hello there.")
        stream.end_input()
        async for _ev in stream:
            pass


async def _fail(engine: TTS) -> APIError:
    with pytest.raises(APIError) as info:
        await _drain(engine)
    return info.value


async def test_connection_drop_before_audio_is_retried(emu: Emulator) -> None:
    engine = TTS(api_key=key(drop_connection_on_connect="true"), base_url=emu.base_url)
    errors = _track(engine)
    try:
        err = await _fail(engine)
    finally:
        await engine.aclose()
    assert isinstance(err, APIConnectionError) and err.retryable
    assert [e.recoverable for e in errors] == [True, True, False]


async def test_transient_failure_recovers_on_retry(emu: Emulator) -> None:
    emu.config.http_status = 503
    engine = TTS(api_key=key(), base_url=emu.base_url)
    errors = _track(engine)

    def heal(_: Any) -> None:
        emu.config.http_status = None

    engine.on("error", heal)
    try:
        async with engine.stream(conn_options=RETRY) as stream:
            stream.push_text("Recovered.")
            stream.end_input()
            events = [ev async for ev in stream]
    finally:
        await engine.aclose()
    assert [e.recoverable for e in errors] == [True]
    assert frames_pcm(events) == bytes(emu.tts_log[-1].pcm)
