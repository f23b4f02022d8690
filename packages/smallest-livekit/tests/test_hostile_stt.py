"""Streaming STT against servers that misbehave: huge frames, quoted keys, refusals, drops."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, APIError, stt, utils
from livekit_hostile import SECRET, STT_WS, STTServer, is_upgrade, oversized_header, serve

import smallest_livekit._stt_stream as stt_module
from smallest_core import MAX_RECONNECT_ATTEMPTS
from smallest_livekit import STT

EV = stt.SpeechEventType
RATE = 16000
pytestmark = pytest.mark.usefixtures("http_context")


@pytest.fixture
async def http_context() -> Any:
    async with utils.http_context.open():
        yield


def _frame(ms: int) -> rtc.AudioFrame:
    samples = RATE * ms // 1000
    return rtc.AudioFrame(
        data=b"\x10\x00" * samples, sample_rate=RATE, num_channels=1, samples_per_channel=samples
    )


def _opts(max_retry: int = 3, timeout: float = 2.0) -> APIConnectOptions:
    return APIConnectOptions(max_retry=max_retry, retry_interval=0.0, timeout=timeout)


def _track(engine: STT) -> list[Any]:
    errors: list[Any] = []
    engine.on("error", errors.append)
    return errors


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):  # bounded: 3 s
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _finals(stream: stt.RecognizeStream) -> list[stt.SpeechData]:
    async with asyncio.timeout(20):
        events = [ev async for ev in stream]
    return [ev.alternatives[0] for ev in events if ev.type is EV.FINAL_TRANSCRIPT]


async def _one_utterance(engine: STT, opts: APIConnectOptions) -> list[stt.SpeechData]:
    stream = engine.stream(conn_options=opts)
    try:
        for _ in range(3):
            stream.push_frame(_frame(100))
        stream.end_input()
        return await _finals(stream)
    finally:
        await stream.aclose()


# 2 ------------------------------------------------------------------------------------
async def test_a_frame_announcing_an_absurd_size_closes_the_stt_socket() -> None:
    close_codes: list[int | None] = []

    async def huge(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        assert request.transport is not None
        request.transport.write(oversized_header(200 * 1024 * 1024) + b"x" * 4096)
        async for _msg in ws:
            pass
        close_codes.append(ws.close_code)
        return ws

    async with serve({("GET", STT_WS): huge}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        started = time.monotonic()
        with pytest.raises(APIConnectionError):
            await _one_utterance(engine, _opts(max_retry=0))
        took = time.monotonic() - started
        await engine.aclose()
    assert took < 2.0
    assert close_codes == [1009]


# 6 ------------------------------------------------------------------------------------
async def test_stt_connection_errors_name_the_host_and_the_reason() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = STT(api_key=SECRET, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(APIConnectionError) as info:
        await _one_utterance(engine, _opts(max_retry=0))
    await engine.aclose()
    text = str(info.value)
    assert f"127.0.0.1:{port}" in text and "refused" in text.lower(), text
    assert SECRET not in f"{text} {info.value!r}"


# 8 ------------------------------------------------------------------------------------
async def test_a_key_quoted_by_the_stt_server_goes_nowhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    upgrades: list[int] = []

    async def quoting(request: web.Request) -> web.StreamResponse:
        if is_upgrade(request):
            upgrades.append(1)
        if len(upgrades) == 1:  # the first upgrade is refused; its body is re-read
            return web.json_response({"error": f"invalid api key {SECRET}"}, status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": f"odd {SECRET}"}))
        await ws.send_str(json.dumps({"type": "error", "message": f"bad key {SECRET}"}))
        async for _msg in ws:
            pass
        return ws

    async with serve({("GET", STT_WS): quoting}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        events = _track(engine)
        failures = []
        for _ in range(2):  # refused, then an error frame
            with pytest.raises(APIError) as info:
                await _one_utterance(engine, _opts(max_retry=0))
            failures.append(info.value)
        await engine.aclose()
    seen = " ".join(f"{e} {e!r} {getattr(e, 'body', '')}" for e in failures)
    seen += " ".join(f"{ev.error} {ev.error!r} {ev!r}" for ev in events)
    assert len(events) == 2 and SECRET not in seen
    assert SECRET not in caplog.text
    assert "***" in seen


# 10 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("plan", ["refuse:429", "close:1008"])
async def test_a_rate_limit_signal_backs_off_then_recovers(plan: str) -> None:
    server = STTServer(plans=[plan, "serve"], retry_after="1")
    async with serve({("GET", STT_WS): server.handle}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        errors = _track(engine)
        stream = engine.stream(conn_options=_opts())
        await _until(lambda: len(server.attempts) == 2, "the second attempt")
        for _ in range(3):  # after the refusal: audio a closed socket took would be lost
            stream.push_frame(_frame(100))
        stream.end_input()
        finals = await _finals(stream)
        await stream.aclose()
        await engine.aclose()
    assert [f.text for f in finals] == ["hello there"]
    assert len(server.attempts) == 2
    assert server.attempts[1] - server.attempts[0] >= 0.9  # Retry-After / 1 s floor honoured
    assert [e.recoverable for e in errors] == [True]
    assert server.audio[-1] == 3 * 3200


async def test_transient_refusals_back_off_exponentially_and_recover() -> None:
    server = STTServer(plans=["refuse:503", "refuse:503", "serve"])
    async with serve({("GET", STT_WS): server.handle}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        errors = _track(engine)
        finals = await _one_utterance(engine, _opts())
        await engine.aclose()
    assert [f.text for f in finals] == ["hello there"]
    first, second, third = server.attempts
    assert second - first >= 0.2 and third - second >= 0.45  # 0.25 s, then 0.5 s
    assert [e.recoverable for e in errors] == [True, True]


async def test_reconnects_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stt_module, "backoff", lambda attempt, error=None: 0.0)
    server = STTServer(plans=["refuse:503"])
    async with serve({("GET", STT_WS): server.handle}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        errors = _track(engine)
        with pytest.raises(APIError):
            await _one_utterance(engine, _opts(max_retry=100))
        await engine.aclose()
    assert len(server.attempts) == MAX_RECONNECT_ATTEMPTS + 1
    assert [e.recoverable for e in errors] == [True] * MAX_RECONNECT_ATTEMPTS + [False]


async def test_a_mid_stream_drop_reconnects_once_and_loses_no_audio() -> None:
    first_part = 16000  # 5 frames of 100 ms, all sent in 50 ms chunks
    server = STTServer(plans=[f"drop_after:{first_part}", "serve"])
    async with serve({("GET", STT_WS): server.handle}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        errors = _track(engine)
        stream = engine.stream(conn_options=_opts())
        pushed = 0
        for frame in [_frame(100)] * 5 + [_frame(30)]:  # the 30 ms tail waits in the chunker
            stream.push_frame(frame)
            pushed += len(frame.data.tobytes())
        await _until(server.dropped.is_set, "the drop")
        await _until(lambda: bool(errors), "the error event")
        for frame in [_frame(100)] * 5:  # audio arriving while the stream reconnects
            stream.push_frame(frame)
            pushed += len(frame.data.tobytes())
        stream.end_input()
        finals = await _finals(stream)
        await stream.aclose()  # nothing raised while shutting down
        await engine.aclose()
    assert [e.recoverable for e in errors] == [True]  # exactly one retryable error
    assert isinstance(errors[0].error, APIConnectionError)
    assert server.audio[0] == first_part
    assert sum(server.audio) == pushed  # sent once: nothing lost, nothing twice
    assert [f.text for f in finals] == ["hello there"]
    # the second connection's times continue the audio timeline (0.5 s sent before it)
    assert finals[0].start_time == pytest.approx(0.1 + first_part / 32000, abs=0.02)


async def test_a_drop_after_the_last_transcript_was_asked_for_is_not_an_error() -> None:
    async def drop_on_close(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is not web.WSMsgType.BINARY:
                await ws.close(code=1011)
                break
        return ws

    async with serve({("GET", STT_WS): drop_on_close}) as url:
        engine = STT(api_key=SECRET, base_url=url)
        errors = _track(engine)
        finals = await _one_utterance(engine, _opts())
        await engine.aclose()
    assert finals == [] and errors == []
