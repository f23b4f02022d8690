"""Options of the official plugins the API carries: pronunciation dictionaries, the
number language, math notation, the content filter, the session id and the
content-expiry opt-in."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import WSMsgType, web
from pipecat.frames.frames import (
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat_hostile import SttServer, Tiny, not_found, tts_turn
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, audio_frames, speech

from smallest_pipecat import (
    SmallestHttpTTSService,
    SmallestLightningV4TTSService,
    SmallestSegmentedSTTService,
    SmallestSTTService,
    SmallestTTSService,
)

PARITY = {
    "pronunciation_dicts": ("dict_brand_names",),
    "number_pronunciation_language": "hi",
    "math_notation": True,
    "content_filter": "flag",
    "session_id": "call-42",
}
EXPECTED = {
    "pronunciation_dicts": ["dict_brand_names"],
    "number_pronunciation_language": "hi",
    "math_notation": True,
    "content_filter": {"enabled": True, "action": "flag"},
    "session_id": "call-42",
}
PCM = b"\x10\x00\xf0\xff" * 1200


def expiry_asked(server: Tiny) -> bool:
    return any(
        k.lower() == "x-expire-content" and v == "true"
        for r in server.requests
        for k, v in r.headers.items()
    )


async def test_http_requests_carry_the_parity_options() -> None:
    bodies: list[dict[str, Any]] = []

    async def answer(request: web.Request) -> web.StreamResponse:
        bodies.append(await request.json())
        return web.Response(status=200, body=PCM, content_type="audio/wav")

    settings = SmallestHttpTTSService.Settings(voice="sophia", language="en", **PARITY)  # type: ignore[arg-type]
    async with Tiny(answer) as api:
        tts = SmallestHttpTTSService(
            api_key="sk_test", base_url=api.url, settings=settings, expire_content=True
        )
        async with Harness(tts) as h:
            await h.send(TTSSpeakFrame("Call 1 800 555 0100 about 2 + 2."))
            await h.end()
    (body,) = bodies
    assert {name: body[name] for name in EXPECTED} == EXPECTED
    assert expiry_asked(api)
    assert h.audio() == PCM


async def test_socket_messages_carry_the_parity_options() -> None:
    messages: list[dict[str, Any]] = []

    async def lightning(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                data = json.loads(msg.data)
                messages.append(data)
                if data.get("continue") is False:
                    for frame in tts_turn(data["context_id"]):
                        await ws.send_str(json.dumps(frame))
        return ws

    settings = SmallestTTSService.Settings(voice="sophia", language="en", **PARITY)  # type: ignore[arg-type]
    async with Tiny(lightning) as api:
        tts = SmallestTTSService(
            api_key="sk_test",
            base_url=api.url,
            settings=settings,
            word_timestamps=False,
            expire_content=True,
        )
        async with Harness(tts) as h:
            await h.send(TTSSpeakFrame("Two plus two is 4."))
            await h.wait_for(lambda: len(h.stops()) == 1)
            await h.end()
    spoken = [m for m in messages if m.get("text")]
    assert spoken and all({n: m[n] for n in EXPECTED} == EXPECTED for m in spoken)
    assert expiry_asked(api)


async def test_stt_sockets_and_uploads_ask_for_content_expiry() -> None:
    async with Tiny(SttServer(fault=None, transcript=FIRST)) as api:
        stt = SmallestSTTService(api_key="sk_test", base_url=api.url, expire_content=True)
        async with Harness(stt, in_rate=RATE) as h:
            await h.send(*audio_frames(speech(FIRST)))
            await h.end()
    assert expiry_asked(api)

    async def transcribe(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.json_response({"status": "success", "transcription": FIRST})

    async with Tiny(transcribe) as api:
        segmented = SmallestSegmentedSTTService(
            api_key="sk_test", base_url=api.url, expire_content=True
        )
        await segmented_once(segmented)
    assert expiry_asked(api)


async def segmented_once(stt: SmallestSegmentedSTTService) -> None:
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(VADUserStartedSpeakingFrame(), *audio_frames(speech(FIRST)))
        await h.send(VADUserStoppedSpeakingFrame())
        await h.end()


async def test_v4_upgrade_asks_for_content_expiry() -> None:
    async with Tiny(not_found) as api:
        tts = SmallestLightningV4TTSService(
            api_key="sk_test", base_url=api.url, expire_content=True
        )
        async with Harness(tts) as h:
            await h.wait_for(lambda: bool(h.errors()))
            await h.end()
    assert expiry_asked(api)
    assert api.requests[0].path == "/waves/v1/lightning-v4/live"
