"""TTS over HTTP: sync formats, SSE, errors, per-model routes."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest
from emulator_kit import AUTH, VOICE

from smallest_emulator import Emulator
from smallest_emulator.audio import decode_g711, parse_wav
from smallest_emulator.engines.deterministic import synthesize


def body(text: str = "Hello there.", **kw: object) -> dict[str, object]:
    b: dict[str, object] = dict(VOICE)
    b["text"] = text
    b.update(kw)
    return b


@pytest.mark.parametrize("fmt", ["pcm", "wav", "ulaw", "alaw"])
async def test_sync_formats(emu: Emulator, http: aiohttp.ClientSession, fmt: str) -> None:
    async with http.post(
        emu.base_url + "/waves/v1/tts",
        json=body(output_format=fmt, request_id="ext1"),
        headers=AUTH,
    ) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "audio/wav"
        assert r.headers["X-External-Request-Id"] == "ext1"
        assert r.headers["X-Request-Id"]
        data = await r.read()
    pcm = synthesize("Hello there.", 16000, voice_id="magnus").pcm
    if fmt == "pcm":
        assert data == pcm
    elif fmt == "wav":
        parsed = parse_wav(data)
        assert parsed is not None and parsed[0] == pcm and parsed[1] == 16000
    else:
        assert decode_g711(data, fmt) == decode_g711(data, fmt)
        assert len(data) == len(pcm) // 2
    assert emu.tts_log[0].transport == "http"


async def test_sse_current_shape(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(emu.base_url + "/waves/v1/tts/live", json=body(), headers=AUTH) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        text = await r.text()
    events = [e for e in text.split("\n\n") if e]
    payloads = [json.loads(e.split("data: ", 1)[1]) for e in events]
    assert payloads[-1] == {"status": "200", "done": True}
    assert all(p["done"] is False and p["status"] == "206" for p in payloads[:-1])
    assert events[0].startswith("event: audio\n")
    audio = b"".join(base64.b64decode(p["audio"]) for p in payloads[:-1])
    assert audio == synthesize("Hello there.", 16000, voice_id="magnus").pcm


@pytest.mark.parametrize("shape", ["docstring", "legacy"])
async def test_sse_older_shapes(emu: Emulator, http: aiohttp.ClientSession, shape: str) -> None:
    emu.config.sse_shape = shape  # type: ignore[assignment]
    async with http.post(emu.base_url + "/waves/v1/tts/live", json=body(), headers=AUTH) as r:
        text = await r.text()
    last = json.loads(text.strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert last["done"] is True
    if shape == "legacy":
        assert last["message"] == "All chunks sent"


async def test_400_shapes(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(
        emu.base_url + "/waves/v1/tts", json=body(voice_id="zz"), headers=AUTH
    ) as r:
        assert r.status == 400
        assert await r.json() == {
            "error": [{"code": "custom", "path": ["voice_id"], "message": "Invalid Voice ID"}]
        }
    async with http.post(
        emu.base_url + "/waves/v1/tts", json=body(output_format="mulaw"), headers=AUTH
    ) as r:
        err = (await r.json())["error"][0]
        assert err["code"] == "invalid_enum_value" and err["received"] == "mulaw"
    emu.config.http_error_shape = "spec"
    async with http.post(
        emu.base_url + "/waves/v1/tts", json=body(voice_id="zz"), headers=AUTH
    ) as r:
        assert await r.json() == {"error": "InvalidRequest", "message": "Invalid Voice ID"}


async def test_401_and_410(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(emu.base_url + "/waves/v1/tts", json=body()) as r:
        assert r.status == 401
    bad = {"Authorization": "Bearer sk_invalid_key"}
    async with http.post(emu.base_url + "/waves/v1/pulse/get_text", data=b"x", headers=bad) as r:
        assert r.status == 401 and await r.json() == {"error": "unauthorized"}
    async with http.post(emu.base_url + "/waves/v1/pulse/get_text", data=b"x") as r:
        assert await r.json() == {"message": "Unauthorized: No tokens provided"}
    for model in ("lightning-v2", "lightning-large"):
        async with http.post(
            emu.base_url + f"/waves/v1/{model}/get_speech", json=body(), headers=AUTH
        ) as r:
            assert r.status == 410
            assert (await r.json())["error_code"] == "MODEL_DEPRECATED"


async def test_per_model_routes(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = emu.base_url + "/waves/v1/lightning-v3.1/get_speech"
    async with http.post(url, json=body(), headers=AUTH) as r:
        assert r.status == 200 and len(await r.read()) > 0
    async with http.post(
        emu.base_url + "/waves/v1/lightning-v3.1/stream", json=body(), headers=AUTH
    ) as r:
        assert '"done":true' in await r.text()


async def test_voices_cover_fixture(emu: Emulator, http: aiohttp.ClientSession) -> None:
    from emulator_kit import fixture_frames

    fx = json.loads(fixture_frames("voices_response.json")[0]["raw"])
    emu.config.get_voices_scope = "union"  # the fixture lists both pools
    async with http.get(emu.base_url + "/waves/v1/lightning-v3.1/get_voices", headers=AUTH) as r:
        got = {v["voiceId"]: v for v in (await r.json())["voices"]}
    for voice in fx["voices"]:
        mine = got[voice["voiceId"]]
        assert set(mine) == set(voice) and set(mine["tags"]) == set(voice["tags"])
        assert mine["tags"]["gender"] == voice["tags"]["gender"]
    assert "english" in got["magnus"]["tags"]["language"]
