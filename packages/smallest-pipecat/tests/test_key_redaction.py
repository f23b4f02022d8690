"""The API key never reaches a log line, an ErrorFrame or an exception: not with websockets
logging at DEBUG, not when a server quotes it back (a 401 body, an error frame, a close)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from pipecat.frames.frames import TTSSpeakFrame
from pipecat.transcriptions.language import Language
from pipecat_hostile import KEY, Tiny, http_tts, leaks, stt, tts, tts_server
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, audio_frames, speech

from smallest_emulator import Emulator
from smallest_pipecat import SmallestSTTService, SmallestTTSService

SECRET = "sk_redaction_canary_41"


async def test_key_not_in_debug_logs(
    default_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tts = SmallestTTSService(
        api_key=SECRET,
        base_url=default_emulator.base_url,
        settings=SmallestTTSService.Settings(voice="liam", language=Language.EN),
    )
    stt = SmallestSTTService(
        api_key=f"{SECRET};transcript={quote(FIRST)}", base_url=default_emulator.base_url
    )
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame("Hello there."))
        await h.end()
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(*audio_frames(speech(FIRST)))
        await h.end()
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("> GET /waves/v1/tts/live") for line in lines)
    assert any(line.startswith("> GET /waves/v1/stt/live") for line in lines)
    assert any(line.startswith("> Authorization: [redacted]") for line in lines)
    assert not [line for line in lines if SECRET in line]


async def refuse_quoting_the_key(request: web.Request) -> web.StreamResponse:
    return web.json_response({"message": f"Invalid API key {KEY}"}, status=401)


async def test_key_quoted_by_a_refusal_is_redacted(logs: list[str]) -> None:
    async with Tiny(refuse_quoting_the_key) as api:
        async with Harness(tts(api.url)) as h:
            await h.wait_for(lambda: bool(h.errors()))
            await h.send(TTSSpeakFrame("Hello there."))
            await h.wait_for(lambda: len(h.stops()) == 1)
            await h.end()
        async with Harness(stt(api.url), in_rate=RATE) as s:
            await s.wait_for(lambda: bool(s.errors()))
            await s.end()
        async with Harness(http_tts(api.url)) as p:
            await p.send(TTSSpeakFrame("Hello there."))
            await p.wait_for(lambda: len(p.stops()) == 1)
            await p.end()
    errors = h.errors() + s.errors() + p.errors()
    assert len(errors) >= 3 and all("Invalid API key ***" in e.error for e in errors)
    assert leaks(errors) == []
    assert [line for line in logs if KEY in line] == []


def error_frames_quoting_the_key(context_id: str, turn: int) -> list[Any]:
    error = {"status": "error", "message": f"key {KEY} is over quota", "context_id": context_id}
    return [error]


async def closes_quoting_the_key(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for _ in ws:
        await ws.send_str(json.dumps({"type": "error", "message": f"bad key {KEY}"}))
        await ws.close(code=4001, message=f"bad key {KEY}".encode())
    return ws


async def test_key_quoted_by_error_frames_and_close_reasons_is_redacted(
    logs: list[str],
) -> None:
    async with Tiny(tts_server(error_frames_quoting_the_key)) as api, Harness(tts(api.url)) as h:
        await h.send(TTSSpeakFrame("Hello there."))
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.end()
    async with Tiny(closes_quoting_the_key) as api, Harness(stt(api.url), in_rate=RATE) as s:
        await s.send(*audio_frames(speech(FIRST))[:10])
        await s.wait_for(lambda: bool(s.errors()))
        await s.end(within=20)
    errors = h.errors() + s.errors()
    assert any("***" in e.error for e in h.errors()) and any("***" in e.error for e in s.errors())
    assert leaks(errors) == []
    assert [line for line in logs if KEY in line] == []
