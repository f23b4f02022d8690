"""The TTS against servers that misbehave: silence, huge frames, trickles, pages, quoted keys."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import time
from typing import Any

import pytest
from aiohttp import web
from livekit.agents import (
    APIConnectionError,
    APIConnectOptions,
    APIError,
    APIStatusError,
    APITimeoutError,
    tts,
    utils,
)
from livekit_hostile import (
    SECRET,
    TTS_HTTP,
    TTS_WS,
    TTSServer,
    is_upgrade,
    oversized_header,
    serve,
)

from smallest_livekit import STT, TTS

pytestmark = pytest.mark.usefixtures("http_context")


@pytest.fixture
async def http_context() -> Any:
    async with utils.http_context.open():
        yield


def _opts(timeout: float = 1.0) -> APIConnectOptions:
    return APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=timeout)


async def _speak(engine: TTS, text: str, wait: float = 1.0) -> list[tts.SynthesizedAudio]:
    async with engine.stream(conn_options=_opts(wait)) as stream:
        stream.push_text(text)
        stream.end_input()
        return [ev async for ev in stream]


def _track(engine: TTS | STT) -> list[Any]:
    errors: list[Any] = []
    engine.on("error", errors.append)
    return errors


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# 1 (a socket gone silent: tests/conformance/test_hostile.py) ----------------------------
# 2 ------------------------------------------------------------------------------------
async def test_a_frame_announcing_an_absurd_size_closes_the_socket() -> None:
    async def huge(request: web.Request, _ws: web.WebSocketResponse, _cid: str) -> bool:
        if server.connections > 1:
            return False
        assert request.transport is not None
        request.transport.write(oversized_header(200 * 1024 * 1024) + b"x" * 4096)
        return True

    server = TTSServer(answer_per_socket=1, on_close_message=huge)
    async with serve({("GET", TTS_WS): server.handle}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        try:
            started = time.monotonic()
            with pytest.raises(APIConnectionError) as info:
                await _speak(engine, "Hello.", wait=3.0)
            took = time.monotonic() - started
            assert not isinstance(info.value, APITimeoutError)
            assert await _speak(engine, "Again.")  # on a new socket
        finally:
            await engine.aclose()
    assert took < 1.5  # refused on the header, not after waiting for 200 MB
    assert server.close_codes[0] == 1009  # the client closed it: message too big
    assert server.connections == 2


# 3 ------------------------------------------------------------------------------------
async def test_a_trickled_http_body_fails_within_the_timeout() -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        await resp.prepare(request)
        for _ in range(60):  # 2 bytes every 0.25 s, for at most 15 s
            try:
                await resp.write(b"\0\0")
            except ConnectionError:
                break
            await asyncio.sleep(0.25)
        return resp

    timeout = 1.0
    async with serve({("POST", TTS_HTTP): trickle}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        try:
            started = time.monotonic()
            async with asyncio.timeout(8):
                with pytest.raises(APITimeoutError):
                    _ = [ev async for ev in engine.synthesize("Hi.", conn_options=_opts(timeout))]
            took = time.monotonic() - started
        finally:
            await engine.aclose()
    assert took < 3 * timeout  # a bound, not a benchmark


# 4 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content_type", "body", "words", "retryable"),
    [
        ("text/html", "<html><body>Bad Gateway</body></html>", "Bad Gateway", True),
        ("application/json", '{"error": "Unauthorized: no credits"}', "no credits", False),
    ],
)
async def test_a_200_that_is_not_audio_is_an_error(
    content_type: str, body: str, words: str, retryable: bool
) -> None:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(body=body.encode(), content_type=content_type)

    async with serve({("POST", TTS_HTTP): page}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        frames: list[tts.SynthesizedAudio] = []
        try:
            with pytest.raises(APIStatusError) as info:
                await _collect(engine.synthesize("Hi.", conn_options=_opts()), frames)
        finally:
            await engine.aclose()
    assert frames == []  # no noise was played
    assert words in info.value.message and content_type in info.value.message
    assert info.value.retryable is retryable


# 5 ------------------------------------------------------------------------------------
async def test_a_lone_surrogate_is_a_clear_non_retryable_error() -> None:
    server = TTSServer()
    async with serve({("GET", TTS_WS): server.handle}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        errors = _track(engine)
        try:
            with pytest.raises(ValueError, match="surrogate"):
                engine.synthesize("broken \ud800 text")
            with pytest.raises(APIError) as info:
                await _speak(engine, "broken \ud800 text")
            assert await _speak(engine, "Fine text.")  # the socket was not blamed
        finally:
            await engine.aclose()
    assert "surrogate" in info.value.message and not info.value.retryable
    assert not isinstance(info.value, APIConnectionError)
    assert [e.recoverable for e in errors] == [False]
    assert server.connections == 1


# 6 ------------------------------------------------------------------------------------
async def test_connection_errors_name_the_host_and_the_reason() -> None:
    port = _free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}"
    engine = TTS(api_key=SECRET, base_url=url)
    try:
        with pytest.raises(APIConnectionError) as streamed:
            await _speak(engine, "Hello.")
        with pytest.raises(APIConnectionError) as posted:
            _ = [ev async for ev in engine.synthesize("Hello.", conn_options=_opts())]
    finally:
        await engine.aclose()
    for error in (streamed.value, posted.value):
        text = str(error)
        assert f"127.0.0.1:{port}" in text and "refused" in text.lower(), text
        assert SECRET not in f"{text} {error!r}"


# 7 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_key", ["sk_abc\r\nX-Injected: 1", "sk_abc\nrest", "sk\tabc"])
def test_a_key_with_control_characters_is_refused(bad_key: str) -> None:
    with pytest.raises(ValueError, match="API key"):
        TTS(api_key=bad_key, base_url="https://api.smallest.ai")
    with pytest.raises(ValueError, match="API key"):
        STT(api_key=bad_key, base_url="https://api.smallest.ai")


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0.0])
def test_durations_must_be_finite_and_positive(value: float) -> None:
    with pytest.raises(ValueError, match=r"idle_timeout_s must be a finite number of seconds"):
        TTS(api_key=SECRET, idle_timeout_s=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"keepalive_interval must be a finite number of seconds"):
        STT(api_key=SECRET, keepalive_interval=value)


# 8 ------------------------------------------------------------------------------------
async def test_a_key_quoted_by_the_server_goes_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    quoted = {"error": f"Unauthorized: invalid api key {SECRET}"}

    async def refuse(_request: web.Request) -> web.Response:
        return web.json_response(quoted, status=401)

    async def frames(request: web.Request) -> web.StreamResponse:
        if not is_upgrade(request):
            return web.json_response(quoted, status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            cid = str(json.loads(msg.data).get("context_id"))
            await ws.send_json({"status": f"odd {SECRET}", "context_id": cid})
            await ws.send_json(
                {"status": "error", "message": f"bad key {SECRET}", "context_id": cid}
            )
            break
        return ws

    failures: list[BaseException] = []
    events: list[Any] = []
    async with serve({("POST", TTS_HTTP): refuse, ("GET", TTS_WS): frames}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        events = _track(engine)
        try:
            for attempt in (
                _speak(engine, "Hello."),
                _collect(engine.synthesize("Hello.", conn_options=_opts())),
            ):
                with pytest.raises(APIError) as info:
                    await attempt
                failures.append(info.value)
        finally:
            await engine.aclose()
    seen = " ".join(f"{e} {e!r} {getattr(e, 'body', '')}" for e in failures)
    seen += " ".join(f"{ev.error} {ev.error!r} {ev!r}" for ev in events)
    assert len(failures) == 2 and len(events) == 2
    assert SECRET not in seen
    assert SECRET not in caplog.text
    assert "***" in seen  # the server's message is kept, minus the key


async def _collect(stream: Any, into: list[Any] | None = None) -> list[Any]:
    out = [] if into is None else into
    async for ev in stream:
        out.append(ev)
    return out


# 9 ------------------------------------------------------------------------------------
async def test_an_endless_error_body_is_read_only_in_part() -> None:
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=500, headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        for _ in range(2000):  # up to 128 MiB, unless the client hangs up
            try:
                await resp.write(b"e" * 65536)
            except ConnectionError:
                break
            sent.append(1)
            await asyncio.sleep(0.002)
        return resp

    async with serve({("POST", TTS_HTTP): endless}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        try:
            async with asyncio.timeout(4):
                with pytest.raises(APIStatusError) as info:
                    await _collect(engine.synthesize("Hi.", conn_options=_opts(timeout=10)))
        finally:
            await engine.aclose()
    assert info.value.status_code == 500
    assert len(sent) < 200  # the client stopped reading long before the server stopped


async def test_an_endless_voice_list_is_refused_early() -> None:
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(b'{"voices": ["')
        for _ in range(2000):  # up to 128 MiB, unless the client hangs up
            try:
                await resp.write(b"v" * 65536)
            except ConnectionError:
                break
            sent.append(1)
            await asyncio.sleep(0.002)
        return resp

    async with serve({("GET", "/waves/v1/lightning-v3.1/get_voices"): endless}) as url:
        engine = TTS(api_key=SECRET, base_url=url)
        try:
            async with asyncio.timeout(4):
                with pytest.raises(APIError, match="limit"):
                    await engine.list_voices()
        finally:
            await engine.aclose()
    assert len(sent) < 200
