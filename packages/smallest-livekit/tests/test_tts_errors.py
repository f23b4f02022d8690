"""Errors: LiveKit error classes, the server's message, retries decided by the core."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit.agents import APIConnectionError, APIConnectOptions, APIError, APIStatusError
from livekit_kit import ALL_PROFILES, frames_pcm, key, speak

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


async def test_bad_key_is_not_retried(emu: Emulator) -> None:
    engine = TTS(api_key="sk_invalid_key", base_url=emu.base_url)
    errors = _track(engine)
    try:
        err = await _fail(engine)
    finally:
        await engine.aclose()
    assert isinstance(err, APIStatusError)
    assert err.status_code == 401 and not err.retryable
    assert "unauthorized" in err.message.lower()
    assert "sk_invalid_key" not in f"{err} {err!r} {err.body}"
    assert [e.recoverable for e in errors] == [False]
    assert emu.ws_connections.opened_total == 0


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_invalid_voice_is_not_retried(emu: Emulator, profile: str) -> None:
    engine = TTS(api_key=key(profile), base_url=emu.base_url, voice_id="nobody")
    errors = _track(engine)
    try:
        err = await _fail(engine)
    finally:
        await engine.aclose()
    assert isinstance(err, APIStatusError) and not err.retryable
    assert "Invalid Voice ID" in err.message
    assert [e.recoverable for e in errors] == [False]  # one attempt
    assert emu.tts_log == []  # nothing was synthesized


@pytest.mark.parametrize(("status", "fault"), [(429, "http_status=429"), (500, "http_status=500")])
async def test_refused_upgrades_are_retried(emu: Emulator, status: int, fault: str) -> None:
    name, _, value = fault.partition("=")
    engine = TTS(api_key=key(**{name: value}), base_url=emu.base_url)
    errors = _track(engine)
    try:
        err = await _fail(engine)
    finally:
        await engine.aclose()
    assert isinstance(err, APIStatusError) and err.status_code == status and err.retryable
    assert [e.recoverable for e in errors] == [True, True, False]  # 3 attempts


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


@pytest.mark.parametrize("fault", ["close_after_chunks=2", "error_after_chunks=2"])
async def test_failure_after_audio_is_not_replayed(emu: Emulator, fault: str) -> None:
    name, _, value = fault.partition("=")
    engine = TTS(api_key=key(**{name: value}), base_url=emu.base_url)
    errors = _track(engine)
    try:
        err = await _fail(engine)
    finally:
        await engine.aclose()
    assert not err.retryable  # audio was already played: a retry would repeat it
    assert [e.recoverable for e in errors] == [False]
    assert len(emu.tts_log) == 1


async def test_idle_timeout_is_handled_transparently(emu: Emulator) -> None:
    emu.config.idle_timeout_s = 0.2  # the server drops idle sockets quickly
    engine = TTS(api_key=key(), base_url=emu.base_url)
    engine._idle_timeout_s = 0  # do not ask the server for a longer one
    errors = _track(engine)
    try:
        await speak(engine, ["First."])
        async with asyncio.timeout(5):  # the server closes the idle socket
            while emu.ws_connections.open_now:  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.05)
        events = await speak(engine, ["Second."])
    finally:
        await engine.aclose()
    assert errors == []
    assert frames_pcm(events) == bytes(emu.tts_log[-1].pcm)
    assert emu.ws_connections.per_route.get("tts") == 2
