"""STT: end of turn windows, container decoding, URL bodies, pulse-2, optional outputs."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import av
import pytest
from aiohttp import web
from emulator_kit import AUTH, fast_config, recv_json

from smallest_emulator import Emulator
from smallest_emulator.audio import wav_header
from smallest_emulator.engines.deterministic import synthesize

RATE = 16000
SPEECH = synthesize("hello world again", RATE).pcm[:16000]  # 0.5 s of loud samples
QUIET = b"\x00\x00" * 800  # 50 ms


def encode(pcm: bytes, container: str, codec: str, rate: int = RATE) -> bytes:
    """``pcm`` (s16 mono) in a real container, encoded by FFmpeg through PyAV."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as f:
        stream: Any = f.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            f.mux(packet)
        for packet in stream.encode(None):
            f.mux(packet)
    return out.getvalue()


async def frames_until_final(ws: aiohttp.ClientWebSocketResponse, wait_s: float) -> dict[str, Any]:
    async with asyncio.timeout(wait_s):
        while True:
            f = await recv_json(ws, wait_s)
            if f.get("is_final"):
                return f


@pytest.mark.parametrize(
    ("window", "eou", "silence_ms", "expect_final"),
    [(200, 800, 300, True), (800, 800, 300, False), (900, 300, 400, True)],
)
async def test_endpointing_timeout_window_with_eou_ceiling(
    http: aiohttp.ClientSession, window: int, eou: int, silence_ms: int, expect_final: bool
) -> None:
    async with Emulator(fast_config(transcript=("hi there",))) as emu:
        url = (
            emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en"
            f"&endpointing_timeout={window}&eou_timeout_ms={eou}"
        )
        async with http.ws_connect(url, headers=AUTH) as ws:
            await ws.send_bytes(SPEECH)
            for _ in range(silence_ms // 50):
                await ws.send_bytes(QUIET)
            if expect_final:
                final = await frames_until_final(ws, 5)
                assert final["transcript"] == "hi there" and "from_finalize" not in final
            else:
                with pytest.raises(TimeoutError):
                    await frames_until_final(ws, 0.5)


async def test_endpointing_timeout_validated(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en&endpointing_timeout=abc"
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(url, headers=AUTH)
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("container", "codec"),
    [
        ("mp3", "libmp3lame"),
        ("flac", "flac"),
        ("ogg", "libopus"),
        ("ipod", "aac"),
        ("webm", "libopus"),
        ("wav", "pcm_s16le"),
    ],
)
async def test_batch_decodes_documented_containers(
    http: aiohttp.ClientSession, container: str, codec: str
) -> None:
    rate = 48000 if codec == "libopus" else RATE
    pcm = synthesize("book a table", rate).pcm
    data = encode(pcm, container, codec, rate)
    async with Emulator(fast_config(transcript=("book a table",))) as emu:
        url = emu.base_url + "/waves/v1/stt/?model=pulse&language=en"
        async with http.post(url, data=data, headers=AUTH) as r:
            assert r.status == 200, await r.text()
            got = await r.json()
    assert got["transcription"] == "book a table"
    assert got["metadata"]["duration"] == pytest.approx(
        len(pcm) / 2 / rate, abs=0.15
    )  # codec priming and padding


async def test_batch_undecodable_is_400_never_empty_200(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    for path in ("/waves/v1/stt/?model=pulse&language=en", "/waves/v1/pulse/get_text"):
        async with http.post(emu.base_url + path, data=b"ID3\x04garbage" * 50, headers=AUTH) as r:
            assert r.status == 400
            text = await r.text()
            assert "Invalid file format" in text


@pytest.fixture
async def loopback_file() -> AsyncIterator[str]:
    pcm = synthesize("from a url", RATE).pcm
    wav = wav_header(len(pcm), RATE) + pcm

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=wav, content_type="audio/wav")

    app = web.Application()
    app.router.add_get("/a.wav", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/a.wav"
    finally:
        await runner.cleanup()


async def test_batch_url_bodies(http: aiohttp.ClientSession, loopback_file: str) -> None:
    pcm = synthesize("from a url", RATE).pcm
    data_url = (
        "data:audio/wav;base64," + base64.b64encode(wav_header(len(pcm), RATE) + pcm).decode()
    )
    async with Emulator(fast_config(transcript=("from a url", "from a url"))) as emu:
        url = emu.base_url + "/waves/v1/stt/?model=pulse&language=en"
        for source in (data_url, loopback_file):
            async with http.post(url, json={"url": source}, headers=AUTH) as r:
                assert r.status == 200, await r.text()
                assert (await r.json())["transcription"] == "from a url"
        async with http.post(url, json={"url": "https://example.com/a.wav"}, headers=AUTH) as r:
            assert r.status == 400
            assert "offline" in (await r.json())["error"]
        async with http.post(url, json={"nope": 1}, headers=AUTH) as r:
            assert r.status == 400


async def test_pulse_2_streaming_emotion_gender_and_end_of_turn(
    http: aiohttp.ClientSession,
) -> None:
    async with Emulator(fast_config(transcript=("good morning",))) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse-2&language=en&eou_timeout_ms=300"
        async with http.ws_connect(url, headers=AUTH) as ws:
            await ws.send_bytes(SPEECH)
            for _ in range(8):
                await ws.send_bytes(QUIET)
            final = await frames_until_final(ws, 5)
        assert final["transcript"] == "good morning" and final["speech_final"] is True
        assert isinstance(final["gender"], str) and isinstance(final["emotions"], dict)
        bad = emu.ws_url + "/waves/v1/stt/live?model=pulse-2&language=hi"
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await http.ws_connect(bad, headers=AUTH)
        assert err.value.status == 400


async def test_streaming_optional_outputs(http: aiohttp.ClientSession) -> None:
    said = "my card is 4111111111111111 call 5551234567"
    async with Emulator(fast_config(transcript=(said,), stt_speech_final=True)) as emu:
        url = (
            emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en&sentence_timestamps=true"
            "&redact_pii=true&redact_pci=true"
        )
        async with http.ws_connect(url, headers=AUTH) as ws:
            await ws.send_bytes(SPEECH)
            await ws.send_json({"type": "finalize"})
            final = await frames_until_final(ws, 5)
    assert final["transcript"] == "my card is [ACCOUNTNUMBER_1] call [PHONENUMBER_1]"
    assert final["redacted_entities"] == ["[ACCOUNTNUMBER_1]", "[PHONENUMBER_1]"]
    assert final["utterances"][0]["text"] == final["transcript"]
    assert final["speech_final"] is False  # a finalize, not an end of speech


async def test_batch_emotion_gender_and_utterances(http: aiohttp.ClientSession) -> None:
    pcm = synthesize("thank you", RATE).pcm
    async with Emulator(fast_config(transcript=("thank you",))) as emu:
        url = (
            emu.base_url + "/waves/v1/stt/?model=pulse&language=en&emotion_detection=true"
            "&gender_detection=true&word_timestamps=true"
        )
        async with http.post(url, data=wav_header(len(pcm), RATE) + pcm, headers=AUTH) as r:
            got = await r.json()
    assert got["gender"] in ("male", "female")
    assert set(got["emotions"]) >= {"happiness", "neutral"}
    assert got["utterances"][0]["text"] == "thank you"
