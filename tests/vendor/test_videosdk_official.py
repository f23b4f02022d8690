"""videosdk-plugins-smallestai 1.0.30 (with videosdk-agents 1.0.30), unmodified, on the emulator.

Pointed at it with the documented ``base_url`` (``…/waves/v1``): its per-model routes
``/waves/v1/lightning-v3.1/get_speech`` and ``…/get_speech/stream``. The pipeline's part is
played by setting ``tts.loop`` and a recording ``audio_track``. The plugin has no STT.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from vendor_kit import BAD_KEY, KEY, RATE, TEXT, VOICE
from videosdk.agents import FlushMarker
from videosdk.plugins.smallestai import SmallestAITTS

from smallest_emulator import Emulator


class RecordingTrack:
    """VideoSDK's agent audio track contract: async ``add_new_bytes``, sync ``interrupt``."""

    def __init__(self) -> None:
        self.audio = bytearray()

    async def add_new_bytes(self, audio_data: bytes) -> None:
        self.audio += audio_data

    def interrupt(self) -> None:
        pass


def _tts(
    server: Emulator, *, streaming: bool, key: str = KEY, voice: str = VOICE, **opts: Any
) -> tuple[SmallestAITTS, RecordingTrack, list[str]]:
    engine = SmallestAITTS(
        api_key=key,
        voice_id=voice,
        sample_rate=RATE,
        base_url=f"{server.base_url}/waves/v1",
        enable_streaming=streaming,
        **opts,
    )
    track = RecordingTrack()
    errors: list[str] = []
    engine.loop = asyncio.get_running_loop()
    engine.audio_track = track
    engine.on("error", lambda message: errors.append(str(message)))
    return engine, track, errors


async def _tokens(text: str) -> AsyncIterator[str | FlushMarker]:
    for token in text.split(" "):
        yield token + " "
    yield FlushMarker()


@pytest.mark.parametrize("streaming", [True, False], ids=["ws", "http"])
async def test_synthesize_text(emu: Emulator, streaming: bool) -> None:
    """``synthesize(str)``: the track gets exactly the synthesized PCM."""
    engine, track, errors = _tts(emu, streaming=streaming)
    try:
        await engine.synthesize(TEXT)
    finally:
        await engine.aclose()
    (rec,) = emu.tts_log
    assert rec.text == TEXT and rec.sample_rate == RATE
    assert bytes(track.audio) == bytes(rec.pcm)
    assert errors == []


@pytest.mark.parametrize("streaming", [True, False], ids=["ws", "http"])
async def test_synthesize_token_stream(emu: Emulator, streaming: bool) -> None:
    """``synthesize(tokens)``: one request per sentence, every sentence's audio in order."""
    engine, track, errors = _tts(emu, streaming=streaming)
    try:
        await engine.synthesize(_tokens(TEXT))
    finally:
        await engine.aclose()
    assert " ".join(r.text for r in emu.tts_log).split() == TEXT.split()
    assert bytes(track.audio) == b"".join(bytes(r.pcm) for r in emu.tts_log)
    assert errors == []


async def test_http_bad_voice_raises(emu: Emulator) -> None:
    """An unknown voice over HTTP: the plugin raises naming the 400 and the server message."""
    engine, track, errors = _tts(emu, streaming=False, voice="no_such_voice")
    try:
        with pytest.raises(RuntimeError, match=r"HTTP 400.*Invalid Voice ID"):
            await engine.synthesize(TEXT)
    finally:
        await engine.aclose()
    assert not track.audio
    assert errors and "Invalid Voice ID" in errors[0]


async def test_ws_bad_voice_is_an_error_frame(emu: Emulator) -> None:
    """An unknown voice on the plugin's per-model socket: the documented error frame.

    The plugin turns the frame into a future exception nobody retrieves (a plugin defect:
    ``synthesize()`` neither raises nor returns an error, asyncio reports "Future exception
    was never retrieved"), so the emulator's answer on that route is read raw with aiohttp.
    """
    body = {"voice_id": "no_such_voice", "text": TEXT, "sample_rate": RATE, "language": "en"}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{emu.ws_url}/waves/v1/lightning-v3.1/get_speech/stream",
            headers={"Authorization": f"Bearer {KEY}"},
        ) as ws,
    ):
        await ws.send_json(body)
        frame = await ws.receive_json(timeout=5)
    assert frame["status"] == "error"
    assert "Invalid Voice ID" in json.dumps(frame)
    assert emu.tts_log == [] or not emu.tts_log[-1].pcm


async def test_http_bad_key_raises_401(emu: Emulator) -> None:
    """A rejected key over HTTP: the plugin raises naming the 401."""
    engine, track, _ = _tts(emu, streaming=False, key=BAD_KEY)
    try:
        with pytest.raises(RuntimeError, match="HTTP 401"):
            await engine.synthesize(TEXT)
    finally:
        await engine.aclose()
    assert not track.audio


async def test_retired_model_is_410(emu: Emulator) -> None:
    """``lightning-large`` (retired 2026-05-19): HTTP 410 ``MODEL_DEPRECATED``."""
    engine, track, _ = _tts(emu, streaming=False, model="lightning-large")
    try:
        with pytest.raises(RuntimeError, match=r"HTTP 410.*MODEL_DEPRECATED"):
            await engine.synthesize(TEXT)
    finally:
        await engine.aclose()
    assert not track.audio
