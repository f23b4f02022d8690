"""Lightning v3.2 per-utterance affect over its HTTP route, and the parity request options."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from videosdk.agents import FlushMarker
from videosdk_hostile import PCM_CHUNK, Tiny, serve_context
from videosdk_kit import FakeTrack, bounded, make_tts

from smallest_core import Affect, SmallestError
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAITTS

V32_ROUTE = "/waves/v1/lightning-v3.2/get_speech"


def v32(emu: Emulator, **kw: Any) -> tuple[SmallestAITTS, Any]:
    return make_tts(emu, model="lightning-v3.2", voice_id="v32voice", **kw)


async def test_v32_speaks_each_sentence_with_the_affect_set_at_that_moment(emu: Emulator) -> None:
    tts, track = v32(emu, affect=Affect(emotion="happy", pitch="high"))

    async def reply() -> Any:
        yield "I am so glad you called today."
        yield FlushMarker()
        tts.set_affect(Affect(volume="low", instruction="calmly"))  # mid-turn, as a tool would
        yield "Now let me lower my voice."

    try:
        assert not tts.enable_streaming  # v3.2 has no streaming route
        await bounded(tts.synthesize(reply()))
        await bounded(tts.synthesize("And back to normal.", affect=None))
        first, second, third = emu.tts_log
        assert [r.transport for r in emu.tts_log] == ["http"] * 3
        assert first.affect == {"emotion": "happy", "pitch": "high"}
        assert second.affect == {"volume": "low", "instruction": "calmly"}
        assert third.affect == {}  # affect=None for this call only
        assert tts.options.affect == Affect(volume="low", instruction="calmly")
        assert bytes(track.audio) == bytes(first.pcm) + bytes(second.pcm) + bytes(third.pcm)
        assert sum(V32_ROUTE in line for line in emu.requests) == 3
        assert emu.ws_connections.opened_total == 0  # nothing to reconnect
    finally:
        await bounded(tts.aclose())


def test_affect_needs_v32_and_v32_needs_its_own_voice() -> None:
    with pytest.raises(ValueError, match=r"lightning_v3\.2"):
        SmallestAITTS(api_key="sk_x", affect=Affect(emotion="sad"))
    tts = SmallestAITTS(api_key="sk_x")
    with pytest.raises(ValueError, match=r"lightning_v3\.2"):
        tts.set_affect(Affect(emotion="sad"))
    with pytest.raises(ValueError, match="get_voices"):
        SmallestAITTS(api_key="sk_x", model="lightning_v3.2")
    with pytest.raises(ValueError, match="neutral, sad, happy, angry"):
        Affect(emotion="ecstatic")


async def test_a_refused_v32_request_carries_the_server_message(emu: Emulator) -> None:
    tts, track = v32(emu, overrides={"http_status": 503})
    errors: list[str] = []
    tts.on("error", lambda message: errors.append(message))
    try:
        with pytest.raises(SmallestError, match="Service temporarily unavailable"):
            await bounded(tts.synthesize("Hello there."))
        assert errors and "Service temporarily unavailable" in errors[0]
        assert track.audio == b""
    finally:
        await bounded(tts.aclose())


PARITY = {
    "pronunciation_dicts": ["dict_1", "dict_2"],
    "number_pronunciation_language": "hi",
    "math_notation": True,
    "content_filter": "flag",
    "session_id": "call-42",
}
SENT = {
    "pronunciation_dicts": ["dict_1", "dict_2"],
    "number_pronunciation_language": "hi",
    "math_notation": True,
    "content_filter": {"enabled": True, "action": "flag"},
    "session_id": "call-42",
}


@pytest.mark.parametrize("streaming", [True, False])
async def test_parity_options_and_content_expiry_reach_the_server(streaming: bool) -> None:
    bodies: list[dict[str, Any]] = []
    headers: list[dict[str, str]] = []

    async def handler(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        headers.append(dict(request.headers))
        if request.method == "POST":
            bodies.append(await request.json())
            return web.Response(body=PCM_CHUNK * 4, headers={"Content-Type": "audio/wav"})
        ws, index = await tiny.accept(request)
        while (msg := await tiny.receive(ws, index)) is not None:
            bodies.append(msg)
            if msg.get("continue") is False:
                await serve_context(ws, msg)
        return ws

    async with Tiny(handler) as server:
        tts = SmallestAITTS(
            base_url=server.url, enable_streaming=streaming, expire_content=True, **PARITY
        )
        track = FakeTrack()
        tts.audio_track = track
        try:
            await bounded(tts.synthesize("Pi is about 3.14."))
        finally:
            await bounded(tts.aclose())
    assert bodies and all({k: b.get(k) for k in SENT} == SENT for b in bodies)
    assert headers and all(h.get("x-expire-content") == "true" for h in headers)
    assert len(track.audio) == len(PCM_CHUNK) * 4


def test_parity_options_are_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="reject, flag"):
        SmallestAITTS(api_key="sk_x", content_filter="block")
    with pytest.raises(ValueError, match="number_pronunciation_language"):
        SmallestAITTS(api_key="sk_x", number_pronunciation_language="xx")
    with pytest.raises(ValueError, match="list of dictionary ids"):
        SmallestAITTS(api_key="sk_x", pronunciation_dicts="dict_1")
