"""Lightning v4 and segmented STT against servers that misbehave: no redirect is followed
with the key, and a key the server quotes back never reaches an ErrorFrame."""

from __future__ import annotations

from aiohttp import web
from pipecat.frames.frames import (
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat_hostile import KEY, Tiny, leaks, not_found, redirect_to
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, audio_frames, speech

from smallest_pipecat import SmallestLightningV4TTSService, SmallestSegmentedSTTService


def v4(url: str) -> SmallestLightningV4TTSService:
    return SmallestLightningV4TTSService(api_key=KEY, base_url=url)


def segmented(url: str) -> SmallestSegmentedSTTService:
    return SmallestSegmentedSTTService(api_key=KEY, base_url=url)


async def test_v4_never_follows_a_redirect() -> None:
    async with (
        Tiny(not_found) as elsewhere,
        Tiny(redirect_to(elsewhere, websocket=True)) as api,
        Harness(v4(api.url)) as h,
    ):
        await h.wait_for(lambda: bool(h.errors()))
        await h.end(within=10)
    assert api.saw(KEY) and elsewhere.requests == []
    (error,) = h.errors()
    assert "302" in error.error and f"127.0.0.1:{elsewhere.port}" in error.error
    assert not leaks(h.errors())


async def test_v4_refusal_quoting_the_key_is_redacted() -> None:
    async def refuse(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        error = {"code": "unauthorized", "message": f"Invalid API key {KEY}"}
        await ws.send_json({"status": "error", "error": error})
        await ws.close(code=1008, message=f"bad key {KEY}".encode())
        return ws

    async with Tiny(refuse) as api, Harness(v4(api.url)) as h:
        await h.wait_for(lambda: bool(h.errors()))
        await h.send(TTSSpeakFrame("Hello there."))
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.end()
    assert h.errors() and all("Invalid API key" in e.error for e in h.errors())
    assert not leaks(h.errors())


async def test_segmented_upload_never_follows_a_redirect() -> None:
    async with (
        Tiny(not_found) as elsewhere,
        Tiny(redirect_to(elsewhere, websocket=False)) as api,
        Harness(segmented(api.url), in_rate=RATE) as h,
    ):
        await h.send(VADUserStartedSpeakingFrame(), *audio_frames(speech(FIRST)))
        await h.send(VADUserStoppedSpeakingFrame())
        await h.wait_for(lambda: bool(h.errors()))
        await h.end()
    assert api.requests and elsewhere.requests == []
    (error,) = h.errors()
    assert "302" in error.error and not leaks(h.errors())
