"""Lightning v3.2 (per-utterance affect over HTTP) and Lightning v4 live sessions."""

from __future__ import annotations

import base64
import io
import json
import wave

import aiohttp
import pytest
from emulator_kit import AUTH, recv_json

from smallest_emulator import Emulator

V32 = "/waves/v1/lightning-v3.2/get_speech"
V4 = "/waves/v1/lightning-v4/live"
AUDIO = {**AUTH, "Accept": "audio/wav"}


def v32_body(**kw: object) -> dict[str, object]:
    body: dict[str, object] = {"text": "Hello there.", "voice_id": "v32voice", "sample_rate": 24000}
    body.update(kw)
    return body


# ---------------------------------------------------------------- v3.2


async def test_v32_speaks_with_the_affect_it_was_given(emu: Emulator, http) -> None:
    url = emu.base_url + V32
    async with http.post(url, json=v32_body(emotion="happy", pitch="high"), headers=AUDIO) as r:
        assert r.status == 200
        happy = await r.read()
    async with http.post(
        url, json=v32_body(volume="low", instruction="calmly"), headers=AUDIO
    ) as r:
        quiet = await r.read()
    first, second = emu.tts_log[-2:]
    assert first.affect == {"emotion": "happy", "pitch": "high"}
    assert second.affect == {"volume": "low", "instruction": "calmly"}
    assert happy == bytes(first.pcm) and quiet == bytes(second.pcm)
    assert quiet != happy  # the volume reached the audio


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (v32_body(emotion="ecstatic"), "Invalid enum value"),
        (v32_body(voice_id="magnus"), "v3.1 voices are not v3.2 voices"),
        (v32_body(language="de"), "Invalid enum value"),
        (v32_body(sample_rate=48000), "Invalid sample rate"),
        (v32_body(text="x" * 8001), "at most 8000"),
    ],
)
async def test_v32_refuses_what_the_spec_refuses(emu: Emulator, http, body, needle) -> None:
    async with http.post(emu.base_url + V32, json=body, headers=AUDIO) as r:
        assert r.status == 400
        assert needle in await r.text()


async def test_v32_without_an_audio_accept_header_is_empty(emu: Emulator, http) -> None:
    async with http.post(emu.base_url + V32, json=v32_body(), headers=AUTH) as r:
        assert r.status == 200 and await r.read() == b""


# ---------------------------------------------------------------- v4


async def _session(http: aiohttp.ClientSession, emu: Emulator, key: str = "sk_test", **q: str):
    query = "&".join(f"{k}={v}" for k, v in {"voice_id": "brannock", **q}.items())
    return await http.ws_connect(
        f"{emu.ws_url}{V4}?{query}", headers={"Authorization": f"Bearer {key}"}
    )


async def _turn_audio(ws: aiohttp.ClientWebSocketResponse, turn_id: str) -> tuple[bytes, str]:
    audio = bytearray()
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type is aiohttp.WSMsgType.BINARY:
            audio.extend(msg.data)
            continue
        data = json.loads(msg.data)
        if data.get("event") in ("turn_end", "interrupted") and data["turn_id"] == turn_id:
            return bytes(audio), data["event"]


async def test_v4_session_says_ready_twice_then_speaks_turns_in_order(emu: Emulator, http) -> None:
    ws = await _session(http, emu, sample_rate="24000")
    try:
        first, second = await recv_json(ws), await recv_json(ws)
        assert first["event"] == "ready" and first["session_id"]
        assert second == {"event": "ready", "sample_rate": 24000}
        await ws.send_json({"event": "speak", "turn_id": "t1", "text": "Hello there."})
        await ws.send_json({"event": "speak", "turn_id": "t2", "text": "Goodbye now."})
        assert await recv_json(ws) == {"event": "turn_start", "turn_id": "t1"}
        one, how = await _turn_audio(ws, "t1")
        assert how == "turn_end" and one == bytes(emu.tts_log[0].pcm) and one
        assert await recv_json(ws) == {"event": "turn_start", "turn_id": "t2"}
        two, _ = await _turn_audio(ws, "t2")
        assert two == bytes(emu.tts_log[1].pcm)
        assert [r.transport for r in emu.tts_log] == ["v4", "v4"]
    finally:
        await ws.close()


async def test_v4_interrupt_stops_the_turn_and_retires_the_queue(emu: Emulator, http) -> None:
    emu.config.speed = 1.0  # paced, so the interrupt lands mid-turn
    ws = await _session(http, emu)
    try:
        await recv_json(ws), await recv_json(ws)
        long_text = "This is a long reply that keeps going for a while. " * 4
        await ws.send_json({"event": "speak", "turn_id": "a", "text": long_text})
        await ws.send_json({"event": "speak", "turn_id": "b", "text": "Queued."})
        assert (await recv_json(ws))["event"] == "turn_start"
        await ws.send_json({"event": "interrupt"})
        events = []
        while len(events) < 2:
            msg = await ws.receive(timeout=5)
            if msg.type is aiohttp.WSMsgType.TEXT:
                events.append(json.loads(msg.data))
        assert sorted(e["turn_id"] for e in events) == ["a", "b"]
        assert {e["event"] for e in events} == {"interrupted"}
        await ws.send_json({"event": "speak", "turn_id": "c", "text": "Next."})
        assert await recv_json(ws) == {"event": "turn_start", "turn_id": "c"}
        audio, how = await _turn_audio(ws, "c")
        assert how == "turn_end" and audio == bytes(emu.tts_log[-1].pcm)
        assert emu.tts_log[0].cancelled and emu.tts_log[1].cancelled
    finally:
        await ws.close()


def _wav(pcm: bytes) -> str:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(pcm)
    return base64.b64encode(buf.getvalue()).decode()


async def test_v4_user_audio_needs_words_and_audio(emu: Emulator, http) -> None:
    ws = await _session(http, emu)
    try:
        await recv_json(ws), await recv_json(ws)
        await ws.send_json({"event": "user_audio", "text": "Hi.", "audio": _wav(b"\x01\x00" * 80)})
        await ws.send_json({"event": "user_audio", "text": "Hi.", "audio": ""})
        error = await recv_json(ws)
        assert error["event"] == "error" and error["code"] == "bad_user_audio"
        await ws.send_json({"event": "dance"})
        assert (await recv_json(ws))["code"] == "bad_frame"
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("key", "query", "code"),
    [
        ("sk_test;v4_access=false", {}, "model_access_denied"),
        ("sk_test", {"voice_id": "sophia"}, "invalid_voice"),
        ("sk_test", {"sample_rate": "22050"}, "invalid_query"),
    ],
)
async def test_v4_refusals_close_the_session(emu: Emulator, http, key, query, code) -> None:
    ws = await _session(http, emu, key=key, **query)
    try:
        refusal = await recv_json(ws)
        assert refusal == {
            "status": "error",
            "error": {"code": code, "message": refusal["error"]["message"]},
        }
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1008
    finally:
        await ws.close()


async def test_v4_bad_speed_is_refused_before_the_upgrade(emu: Emulator, http) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await _session(http, emu, speed="3")
    assert err.value.status == 400
