"""TTS behaviours as documented: word-timestamp voices, context_close, cancel, legacy routes."""

from __future__ import annotations

from typing import Any

import aiohttp
import av
import pytest
from emulator_kit import AUTH, VOICE, audio_of, collect_until_complete, fast_config, msg, recv_json

from smallest_emulator import Emulator


def words(frames: list[dict[str, Any]]) -> list[str]:
    return [f["data"]["word"] for f in frames if f["status"] == "word_timestamp"]


async def quiet(ws: aiohttp.ClientWebSocketResponse, wait_s: float = 0.4) -> list[dict[str, Any]]:
    """Frames until the socket stays quiet for ``wait_s``."""
    out: list[dict[str, Any]] = []
    while True:
        try:
            out.append(await recv_json(ws, wait_s))
        except TimeoutError:
            return out


@pytest.mark.parametrize(
    ("voice", "model", "language", "expected"),
    [
        ("avery", "lightning_v3.1", "en", ["Hello", "there."]),
        ("meher", "lightning_v3.1_pro", "hi", ["Hello", "there."]),
        ("magnus", "lightning_v3.1", "en", []),
        ("zoe", "lightning_v3.1_pro", "en", []),
        ("devansh", "lightning_v3.1", "ta", []),
    ],
)
async def test_word_timestamps_only_for_documented_voices(
    http: aiohttp.ClientSession, voice: str, model: str, language: str, expected: list[str]
) -> None:
    async with (
        Emulator(fast_config().apply_profile("default")) as emu,
        http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws,
    ):
        m = msg("Hello there.", voice_id=voice, model=model, language=language)
        await ws.send_json({**m, "word_timestamps": True})
        frames = await collect_until_complete(ws)
    assert words(frames) == expected
    assert audio_of(frames)


async def test_context_close_ends_and_forgets_the_context(http: aiohttp.ClientSession) -> None:
    async with (
        Emulator(fast_config(max_buffer_delay_ms=5000)) as emu,
        http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws,
    ):
        await ws.send_json(msg("Buffered words", context_id="c1", **{"continue": True}))
        await ws.send_json({"context_id": "c1", "context_close": True})
        frames = await collect_until_complete(ws)
        await ws.send_json({"context_id": "c1", "context_close": True})  # already gone
        assert await quiet(ws) == []
        await ws.send_json(msg("Fresh.", context_id="c1"))
        await collect_until_complete(ws)
    assert audio_of(frames)
    assert [r.releases for r in emu.tts_log] == [["Buffered words"], ["Fresh."]]


async def test_documented_profile_no_echo_and_cancel_keeps_context(
    http: aiohttp.ClientSession,
) -> None:
    cfg = fast_config(speed=50.0).apply_profile("default")
    async with (
        Emulator(cfg) as emu,
        http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws,
    ):
        long = "word " * 200 + "end. "
        await ws.send_json(msg(long, context_id="a", **{"continue": True}))
        assert (await recv_json(ws))["status"] == "chunk"
        await ws.send_json({**msg(""), "context_id": "a", "cancel_request": True})
        await quiet(ws)
        await ws.send_json(msg("After the cancel.", context_id="a"))
        frames = await quiet(ws, 1.0)
    assert frames and all("context_id" not in f for f in frames)
    assert [f["status"] for f in frames][-1] == "complete"
    assert len(emu.tts_log) == 1  # the same context carried on
    assert emu.tts_log[0].releases[-1] == "After the cancel."


async def test_documented_profile_refuses_context_with_flush(http: aiohttp.ClientSession) -> None:
    cfg = fast_config().apply_profile("default")
    async with (
        Emulator(cfg) as emu,
        http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws,
    ):
        await ws.send_json(msg("Hi.", context_id="a", flush=True))
        err = await recv_json(ws)
    assert err["status"] == "error"


async def test_legacy_zero_flush_holds_until_flush(http: aiohttp.ClientSession) -> None:
    async with (
        Emulator(fast_config(buffer_flush_zero="hold")) as emu,
        http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws,
    ):
        for part in ("Hello ", "there, ", "friend"):
            await ws.send_json(msg(part, max_buffer_flush_ms=0, **{"continue": True}))
        assert await quiet(ws, 0.3) == []
        await ws.send_json(msg("", flush=True, **{"continue": False}))
        await collect_until_complete(ws)
    assert emu.tts_log[0].releases == ["Hello there, friend"]


async def test_sync_headers_once_and_mp3(emu: Emulator, http: aiohttp.ClientSession) -> None:
    body = {**VOICE, "text": "Hello there.", "output_format": "mp3"}
    async with http.post(emu.base_url + "/waves/v1/tts", json=body, headers=AUTH) as r:
        assert r.status == 200
        assert len(r.headers.getall("x-request-id")) == 1
        data = await r.read()
    with av.open(__import__("io").BytesIO(data)) as f:
        assert f.streams.audio[0].codec_context.name.startswith("mp3")


async def test_ws_mp3(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("Hello there.", output_format="mp3"))
        frames = await collect_until_complete(ws)
    assert audio_of(frames)[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"ID")


async def test_legacy_routes(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get(emu.base_url + "/waves/v1/streaming-tts/stream", headers=AUTH) as r:
        assert r.status == 410
    v1 = emu.base_url + "/waves/v1/lightning/get_speech"
    base = {"text": "Hi.", "voice_id": "emily"}
    async with http.post(v1, json={**base, "sample_rate": 44100}, headers=AUTH) as r:
        assert r.status == 400
    async with http.post(v1, json={**base, "language": "ta"}, headers=AUTH) as r:
        assert r.status == 400
    async with http.post(v1, json=base, headers=AUTH) as r:
        assert r.status == 200 and await r.read()
    async with http.post(
        emu.base_url + "/waves/v1/tts",
        json={**VOICE, "text": "Hi.", "voice_id": "emily"},
        headers=AUTH,
    ) as r:
        assert r.status == 400


async def test_sdk_route_not_405(emu: Emulator, http: aiohttp.ClientSession) -> None:
    for path in ("/waves/v1/lightning-v2/stream", "/waves/v1/streaming-tts/stream"):
        async with http.get(emu.base_url + path, headers=AUTH) as r:
            assert r.status in (404, 410), (path, r.status)
