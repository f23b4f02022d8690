"""Lightning v4 against a scripted server: a turn's error keeps the session, a dropped or
silent session fails the turn and is replaced, and errors carry the server's words."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from livekit.agents import APIConnectionError, APIConnectOptions, APIError, APITimeoutError, utils
from livekit_hostile import serve
from livekit_kit import frames_pcm

from smallest_livekit import LightningV4TTS

V4 = "/waves/v1/lightning-v4/live"
PCM = b"\x01\x02" * 2400
NO_RETRY = APIConnectOptions(max_retry=0, timeout=1.0)
Script = Callable[[web.WebSocketResponse, dict[str, Any], int], Awaitable[bool]]


def v4_server(script: Script) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A v4 session that says ready twice, then lets ``script`` answer each ``speak``
    (``script`` returns False to close the session). Sessions are numbered from 1."""
    sessions = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal sessions
        sessions += 1
        number = sessions
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"event": "ready", "session_id": f"s{number}"})
        await ws.send_json({"event": "ready", "sample_rate": 24000})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("event") == "speak" and not await script(ws, data, number):
                break
        await ws.close()
        return ws

    return handler


async def _speak_turn(ws: web.WebSocketResponse, turn_id: str) -> None:
    await ws.send_json({"event": "turn_start", "turn_id": turn_id})
    await ws.send_bytes(PCM)
    await ws.send_json({"event": "turn_end", "turn_id": turn_id})


async def _run(
    script: Script, texts: list[str], options: APIConnectOptions = NO_RETRY
) -> tuple[list[Any], LightningV4TTS]:
    """Speak each text as one stream; returns each outcome (audio bytes or the error)."""
    outcomes: list[Any] = []
    async with serve({("GET", V4): v4_server(script)}) as url, utils.http_context.open():
        engine = LightningV4TTS(base_url=url, sample_rate=24000)
        try:
            for text in texts:
                try:
                    async with engine.stream(conn_options=options) as stream:
                        stream.push_text(text)
                        stream.end_input()
                        outcomes.append(frames_pcm([ev async for ev in stream]))
                except APIError as exc:
                    outcomes.append(exc)
        finally:
            await engine.aclose()
    return outcomes, engine


async def test_a_turn_error_is_the_servers_message_and_keeps_the_session() -> None:
    async def script(ws: web.WebSocketResponse, speak_msg: dict[str, Any], _: int) -> bool:
        turn_id = speak_msg["turn_id"]
        if "blocked" in speak_msg["text"]:
            message = "text matched the content filter"
            await ws.send_json(
                {
                    "event": "error",
                    "turn_id": turn_id,
                    "code": "content_rejected",
                    "message": message,
                }
            )
        else:
            await _speak_turn(ws, turn_id)
        return True

    (refused, spoken), engine = await _run(script, ["A blocked word.", "Fine words."])
    assert isinstance(refused, APIError)
    assert "content_rejected: text matched the content filter" in refused.message
    assert spoken == PCM
    assert engine.sessions_opened == 1


async def test_a_dropped_session_fails_the_turn_and_the_next_turn_reconnects() -> None:
    async def script(ws: web.WebSocketResponse, speak_msg: dict[str, Any], session: int) -> bool:
        if session == 1:
            await ws.send_json({"event": "turn_start", "turn_id": speak_msg["turn_id"]})
            return False  # the server goes away mid-turn
        await _speak_turn(ws, speak_msg["turn_id"])
        return True

    (dropped, spoken), engine = await _run(script, ["Hello.", "Hello again."])
    assert isinstance(dropped, APIConnectionError) and dropped.retryable
    assert spoken == PCM
    assert engine.sessions_opened == 2


async def test_livekit_retries_a_dropped_turn_on_a_new_session_once() -> None:
    async def script(ws: web.WebSocketResponse, speak_msg: dict[str, Any], session: int) -> bool:
        if session == 1:
            return False  # gone before the turn started
        await _speak_turn(ws, speak_msg["turn_id"])
        return True

    retry = APIConnectOptions(max_retry=1, retry_interval=0.0, timeout=1.0)
    (spoken,), engine = await _run(script, ["Hello."], retry)
    assert spoken == PCM  # the replayed text, spoken once
    assert engine.sessions_opened == 2


async def test_a_silent_session_times_out_and_is_replaced() -> None:
    async def script(ws: web.WebSocketResponse, speak_msg: dict[str, Any], session: int) -> bool:
        if session > 1:
            await _speak_turn(ws, speak_msg["turn_id"])
        return True  # session 1 never answers

    (silent, spoken), engine = await _run(script, ["Hello?", "Hello."])
    assert isinstance(silent, APITimeoutError)
    assert spoken == PCM
    assert engine.sessions_opened == 2


@pytest.mark.parametrize("after_audio", [False, True])
async def test_an_error_after_audio_is_final(after_audio: bool) -> None:
    async def script(ws: web.WebSocketResponse, speak_msg: dict[str, Any], _: int) -> bool:
        await ws.send_json({"event": "turn_start", "turn_id": speak_msg["turn_id"]})
        if after_audio:
            await ws.send_bytes(PCM)
        return False

    (error,), _ = await _run(script, ["Hello."])
    assert isinstance(error, APIError) and error.retryable is not after_audio
