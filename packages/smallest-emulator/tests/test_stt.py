"""STT: streaming interims/finals/VAD/keepalive, pre-upgrade errors, HTTP."""

from __future__ import annotations

import aiohttp
import pytest
from emulator_kit import AUTH, fast_config, recv_json

from smallest_emulator import Emulator
from smallest_emulator.audio import wav_header
from smallest_emulator.engines.deterministic import synthesize

SPEECH = synthesize("hello world again", 16000).pcm[:16000]  # 0.5 s of loud samples
SILENCE = b"\x00\x00" * 16000  # 1 s


def chunks(pcm: bytes, size: int = 1600) -> list[bytes]:
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


async def test_interim_then_finalize_and_close_stream(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(transcript=("hello world", "second one"))) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en&word_timestamps=true"
        async with http.ws_connect(url, headers=AUTH) as ws:
            for c in chunks(SPEECH):
                await ws.send_bytes(c)
            interim = await recv_json(ws)
            assert interim["is_final"] is False and interim["transcript"] == "hello"
            await ws.send_json({"type": "finalize"})
            while (f := await recv_json(ws))["is_final"] is False:
                pass
            assert f["transcript"] == "hello world" and f["from_finalize"] is True
            assert f["language"] == "en" and [w["word"] for w in f["words"]] == ["hello", "world"]
            await ws.send_json({"type": "keepalive"})
            assert await recv_json(ws) == {"type": "pong"}
            await ws.send_bytes(SPEECH)
            await ws.send_json({"type": "close_stream"})
            while not (f := await recv_json(ws))["is_final"]:
                pass
            assert f["is_last"] is True and f["transcript"] == "second one"
            m = await ws.receive(timeout=5)
            assert m.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 1000
        rec = emu.stt_log[0]
        assert rec.audio_bytes == 2 * len(SPEECH)
        assert [c["type"] for c in rec.control_messages] == [
            "finalize",
            "keepalive",
            "close_stream",
        ]


async def test_endpointing_and_vad(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(transcript=("hi there",))) as emu:
        url = (
            emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en&vad_events=true"
            "&eou_timeout_ms=300&endpointing=true"
        )
        async with http.ws_connect(url, headers=AUTH) as ws:
            for c in chunks(SILENCE[:3200] + SPEECH + SILENCE):
                await ws.send_bytes(c)
            types = []
            final = None
            while "speech_ended" not in types:
                f = await recv_json(ws)
                types.append(
                    f.get("type")
                    if f["type"] != "transcription"
                    else ("final" if f["is_final"] else "interim")
                )
                if f["type"] == "speech_started":
                    assert f["timestamp"] == pytest.approx(0.1)
                if f.get("is_final"):
                    final = f
            assert types[0] == "speech_started" and "final" in types
            assert final is not None and final["transcript"] == "hi there"
            assert "from_finalize" not in final and "words" not in final


async def test_round_trip_without_script(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(
        emu.base_url + "/waves/v1/tts",
        json={"voice_id": "magnus", "text": "Round trip works.", "sample_rate": 16000},
        headers=AUTH,
    ) as r:
        pcm = await r.read()
    url = emu.ws_url + "/waves/v1/pulse/get_text?language=en"
    async with http.ws_connect(url, headers=AUTH) as ws:
        for c in chunks(pcm):
            await ws.send_bytes(c)
        await ws.send_json({"type": "close_stream"})
        while not (f := await recv_json(ws))["is_final"]:
            pass
        assert f["transcript"] == "Round trip works."
        assert "words" in f  # legacy route: word_timestamps default true


async def test_a_final_covers_every_synthesis_heard_since_the_last_one(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    pcm = b""
    for text in ("First sentence here.", "Then a second one."):
        async with http.post(
            emu.base_url + "/waves/v1/tts",
            json={"voice_id": "magnus", "text": text, "sample_rate": 16000},
            headers=AUTH,
        ) as r:
            pcm += await r.read()
    url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en&endpointing=false"
    async with http.ws_connect(url, headers=AUTH) as ws:
        for c in chunks(pcm):
            await ws.send_bytes(c)
        await ws.send_json({"type": "close_stream"})
        while not (f := await recv_json(ws))["is_final"]:
            pass
        assert f["transcript"] == "First sentence here. Then a second one."


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("language=en", "Missing required query param: model"),
        ("model=pulse-pro&language=en", "Pulse Pro has no streaming transport"),
        ("model=pulse&language=xx", "Unsupported language"),
        ("model=pulse&language=en&sample_rate=12345", "sample_rate"),
        ("model=pulse&language=en&diarize=yes", "diarize"),
        ("model=pulse&language=en&eou_timeout_ms=50", "eou_timeout_ms"),
        ("model=pulse&language=en&keywords=a:b:c", "keywords"),
    ],
)
async def test_pre_upgrade_400(
    emu: Emulator, http: aiohttp.ClientSession, query: str, fragment: str
) -> None:
    async with http.get(emu.base_url + "/waves/v1/stt/live?" + query, headers=AUTH) as r:
        assert r.status == 400
        assert fragment in (await r.json())["error"]


async def test_concurrency_close_1008(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(concurrency_limit=1)) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en"
        async with (
            http.ws_connect(url, headers=AUTH) as ws1,
            http.ws_connect(url, headers=AUTH) as ws2,
        ):
            err = await recv_json(ws2)
            assert err["type"] == "error" and "Concurrency" in err["message"]
            m = await ws2.receive(timeout=5)
            assert m.type == aiohttp.WSMsgType.CLOSE and ws2.close_code == 1008
            assert not ws1.closed


@pytest.mark.parametrize(
    ("shape", "key"), [("plain", "error"), ("object", "error"), ("type", "type")]
)
async def test_stt_error_shapes(http: aiohttp.ClientSession, shape: str, key: str) -> None:
    async with Emulator(fast_config(error_after_chunks=2, stt_error_shape=shape)) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en"
        async with http.ws_connect(url, headers=AUTH) as ws:
            await ws.send_bytes(SILENCE[:3200])
            await ws.send_bytes(SILENCE[:3200])
            f = await recv_json(ws)
            assert key in f


async def test_stt_http_unified_and_legacy(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.config.transcript = ("hello from http",)
    wav = wav_header(len(SPEECH), 16000) + SPEECH
    url = emu.base_url + "/waves/v1/stt/?model=pulse&language=en&word_timestamps=true"
    async with http.post(url, data=wav, headers=AUTH) as r:
        b = await r.json()
    assert b["status"] == "success" and b["transcription"] == "hello from http"
    assert len(b["words"]) == 3 and b["utterances"][0]["text"] == "hello from http"
    async with http.post(emu.base_url + "/waves/v1/stt/", data=wav, headers=AUTH) as r:
        assert r.status == 400 and "model" in (await r.json())["error"]
    emu.config.stt_max_bytes = 10
    async with http.post(emu.base_url + "/waves/v1/stt/?model=pulse", data=wav, headers=AUTH) as r:
        assert r.status == 413
    async with http.post(emu.base_url + "/waves/v1/pulse/get_text", data=wav, headers=AUTH) as r:
        assert r.status == 400 and (await r.json())["errors"] == "Audio data too large"


async def test_frames_match_fixture_keys(http: aiohttp.ClientSession) -> None:
    import json

    from emulator_kit import fixture_frames

    fx = {
        f["name"]: json.loads(f["raw"])
        for f in fixture_frames("stt_ws_server_frames.json")
        if f["expect"]["type"] != "malformed"
    }
    async with Emulator(fast_config(transcript=("hello world",))) as emu:
        url = (
            emu.ws_url
            + "/waves/v1/stt/live?model=pulse&language=en&word_timestamps=true&diarize=true"
        )
        async with http.ws_connect(url, headers=AUTH) as ws:
            await ws.send_bytes(SPEECH)
            interim = await recv_json(ws)
            await ws.send_json({"type": "finalize"})
            final = await recv_json(ws)
    assert set(interim) == set(fx["interim"])
    # speech_final: documented on finals (§12.2), on by default in the emulator
    assert set(final) == set(fx["final-from-finalize"]) | {"languages", "speech_final"}
    assert set(final["words"][0]) == set(fx["final-with-words-speaker-language"]["words"][0])


async def test_traced_sessions_report_when_each_final_was_sent(http: aiohttp.ClientSession) -> None:
    import time

    async with Emulator(fast_config(transcript=("hello world",))) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en"
        headers = {"Authorization": "Bearer sk_x;trace=stt-1"}
        async with http.ws_connect(url, headers=headers) as ws:
            for c in chunks(SPEECH):
                await ws.send_bytes(c)
            await ws.send_json({"type": "finalize"})
            while not (await recv_json(ws))["is_final"]:
                pass
            received = time.monotonic()
        async with http.get(emu.base_url + "/_emulator/traces", headers=AUTH) as resp:
            body = await resp.json()
    (sent,) = body["stt"]["stt-1"]
    assert sent <= received
    assert body["tts"] == {}
