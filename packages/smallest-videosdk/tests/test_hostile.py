"""Hostile inputs and misbehaving servers: nothing lost, nothing leaked, nothing hung."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from videosdk.agents import FlushMarker, audio_format
from videosdk_hostile import Tiny, huge_body, serve_context
from videosdk_kit import PROFILES, FakeTrack, bounded, make_tts, tokens, wait_for

from smallest_core import DEFAULT_VOICE, MAX_FRAME_BYTES, ErrorKind, SmallestError
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAISTT, SmallestAITTS

KEY = "sk_hostile_5f9c2e7a1b3d"
"""Long enough to be redacted (short test keys are not searched for)."""

PIPELINE_TOKENS: tuple[str | FlushMarker, ...] = (
    "Bababo",
    " beba",
    " biba",
    " bobaku",
    " buba",
    ".",
    FlushMarker(),
    " Daba",
    " debara",
    " diba",
    " doba",
    " dubaze",
    ".",
    FlushMarker(),
    " Gaga",
    " gege",
    ".",
    FlushMarker(),
)


def _spoken(parts: tuple[str | FlushMarker, ...]) -> str:
    return "".join(p for p in parts if isinstance(p, str))


def _served(emu: Emulator) -> list[str]:
    """Each WS context's received text, in order, less any context that got no audio and
    was sent again right after (a replay after the server dropped the socket)."""
    units = [(r.text, r.bytes_sent) for r in emu.tts_log if r.transport == "ws"]
    out = []
    for i, (text, sent) in enumerate(units):
        following = units[i + 1][0] if i + 1 < len(units) else None
        if sent == 0 and following is not None and following.startswith(text):
            continue
        out.append(text)
    return out


def _tts(url: str, **kw: Any) -> tuple[SmallestAITTS, FakeTrack]:
    tts = SmallestAITTS(api_key=kw.pop("api_key", KEY), base_url=url, **kw)
    track = FakeTrack()
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = track
    return tts, track


# ---------------------------------------------------------------- 1: tokens after a marker


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.05])
@pytest.mark.parametrize("profile", PROFILES)
async def test_every_token_after_a_flush_marker_reaches_the_server(
    emu: Emulator, profile: str, delay: float
) -> None:
    tts, track = make_tts(emu, profile)
    try:
        await bounded(tts.synthesize(tokens(*PIPELINE_TOKENS, delay=delay)), 15.0)
        served = _served(emu)
        assert "".join(served) == _spoken(PIPELINE_TOKENS)
        assert served == [
            "Bababo beba biba bobaku buba.",
            " Daba debara diba doba dubaze.",
            " Gaga gege.",
        ]
        played = b"".join(bytes(r.pcm) for r in emu.tts_log if r.transport == "ws")
        assert played and bytes(track.audio) == played
    finally:
        await tts.aclose()


@pytest.mark.parametrize("delay", [0.0, 0.05])
async def test_a_server_that_drops_text_for_a_second_context_in_flight_loses_nothing(
    delay: float,
) -> None:
    """A sequential server ignores fragments of a context that arrive while another one
    is still being synthesized: the next context's text must wait for the previous one."""

    async def sequential(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, i = await tiny.accept(request)
        busy_until = 0.0
        kept: dict[str, list[str]] = {}
        tiny.state["kept"] = kept
        while (msg := await tiny.receive(ws, i)) is not None:
            ctx = str(msg.get("context_id"))
            if time.monotonic() < busy_until and ctx != tiny.state.get("busy_ctx"):
                continue  # dropped, as a one-synthesis-at-a-time server does
            kept.setdefault(ctx, []).append(str(msg.get("text", "")))
            if msg.get("continue") is False:
                busy_until = time.monotonic() + 0.2
                tiny.state["busy_ctx"] = ctx
                await asyncio.sleep(0.2)
                await serve_context(ws, msg)
        return ws

    async with Tiny(sequential) as tiny:
        tts, track = _tts(tiny.url)
        try:
            await bounded(tts.synthesize(tokens(*PIPELINE_TOKENS, delay=delay)), 10.0)
        finally:
            await tts.aclose()
        kept = ["".join(parts) for parts in tiny.state["kept"].values()]
        assert "".join(kept) == _spoken(PIPELINE_TOKENS)
        assert len(track.audio) == 3 * 4 * 1024


# ---------------------------------------------------------------- 2: a socket gone silent


async def _silent_after_one_context(tiny: Tiny, request: web.Request) -> web.StreamResponse:
    ws, i = await tiny.accept(request)
    served = False
    while (msg := await tiny.receive(ws, i)) is not None:
        if not served and msg.get("continue") is False:
            await serve_context(ws, msg)
            served = True
    return ws


async def test_a_socket_that_stopped_answering_is_replaced() -> None:
    async with Tiny(_silent_after_one_context) as tiny:
        tts, track = _tts(tiny.url, timeout=0.5)
        try:
            await bounded(tts.synthesize("First turn."))
            assert len(track.audio) == 4 * 1024
            started = time.monotonic()
            with pytest.raises(SmallestError) as failed:
                await bounded(tts.synthesize("Second turn."), 5.0)
            assert failed.value.kind is ErrorKind.TIMEOUT
            assert time.monotonic() - started < 2.0
            await bounded(tts.synthesize("Third turn."), 5.0)
            assert len(track.audio) == 2 * 4 * 1024
            assert tiny.connections == 2
        finally:
            await tts.aclose()
        await wait_for(lambda: all(c is not None for c in tiny.close_codes))


async def test_an_absurd_frame_closes_the_socket_instead_of_being_buffered() -> None:
    async def absurd(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, i = await tiny.accept(request)
        if await tiny.receive(ws, i) is not None:
            with contextlib.suppress(ConnectionError):
                await ws.send_str("x" * (MAX_FRAME_BYTES + 4096))
            while await tiny.receive(ws, i) is not None:
                pass
        tiny.close_codes[i] = ws.close_code
        return ws

    async with Tiny(absurd) as tiny:
        tts, _track = _tts(tiny.url, timeout=2.0)
        try:
            with pytest.raises(SmallestError) as failed:
                await bounded(tts.synthesize("Hello."), 10.0)
        finally:
            await tts.aclose()
    # Refused while reading the frame's header (1009: message too big), not decoded.
    assert "close code 1009" in failed.value.message
    assert "exceeds limit" in failed.value.message


async def test_a_deeply_nested_frame_fails_the_turn_cleanly() -> None:
    async def nested(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, i = await tiny.accept(request)
        while (msg := await tiny.receive(ws, i)) is not None:
            if msg.get("continue") is False:
                await ws.send_str("[" * 200_000 + "]" * 200_000)
        return ws

    async with Tiny(nested) as tiny:
        tts, _track = _tts(tiny.url, timeout=2.0)
        try:
            with pytest.raises(SmallestError) as failed:
                await bounded(tts.synthesize("Hello."), 10.0)
            assert failed.value.kind is ErrorKind.PROTOCOL
        finally:
            await tts.aclose()


# ---------------------------------------------------------------- 3: a slow LLM


async def _slow_llm(first: str, pause: float, rest: str) -> AsyncIterator[str | FlushMarker]:
    yield first
    await asyncio.sleep(pause)
    yield rest
    yield FlushMarker()


@pytest.mark.parametrize("voice", [DEFAULT_VOICE, "magnus"])  # timed words, and none
@pytest.mark.parametrize("first", ["Hello there.", "Hello"])
async def test_a_slow_text_source_is_not_a_server_timeout(
    emu: Emulator, first: str, voice: str
) -> None:
    tts, track = make_tts(emu, timeout=0.3, voice_id=voice)
    errors: list[str] = []
    tts.on("error", lambda e: errors.append(e))
    try:
        await bounded(tts.synthesize(_slow_llm(first, 1.0, " How are you?")), 10.0)
        assert errors == []
        assert "".join(_served(emu)) == first + " How are you?"
        assert bytes(track.audio) == b"".join(bytes(r.pcm) for r in emu.tts_log)
    finally:
        await tts.aclose()


# ---------------------------------------------------------------- 4: 200 that is not audio


# ---------------------------------------------------------------- 5: closed, bad text


async def test_synthesize_after_aclose_raises(emu: Emulator) -> None:
    tts, _track = make_tts(emu)
    await bounded(tts.synthesize("Hello."))
    await tts.aclose()
    opened = emu.ws_connections.opened_total
    with pytest.raises(RuntimeError, match="closed"):
        await bounded(tts.synthesize("Again."))
    assert emu.ws_connections.opened_total == opened
    assert tts._session is None


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("as_tokens", [False, True])
async def test_a_lone_surrogate_is_a_clear_value_error(
    emu: Emulator, streaming: bool, as_tokens: bool
) -> None:
    tts, _track = make_tts(emu, enable_streaming=streaming)
    text: Any = tokens("Hello ", "\ud800 there.", FlushMarker()) if as_tokens else "Hi \ud800."
    try:
        with pytest.raises(ValueError, match="surrogate") as failed:
            await bounded(tts.synthesize(text))
        assert not isinstance(failed.value, UnicodeError)
    finally:
        await tts.aclose()


# ---------------------------------------------------------------- 7: construction


@pytest.mark.parametrize("cls", [SmallestAITTS, SmallestAISTT])
def test_a_key_with_a_line_break_is_refused(cls: type) -> None:
    with pytest.raises(ValueError):
        cls(api_key="sk_abc\r\nX-Injected: 1")


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (SmallestAITTS, "timeout"),
        (SmallestAITTS, "max_connection_age_sec"),
        (SmallestAITTS, "idle_timeout_s"),
        (SmallestAISTT, "timeout"),
        (SmallestAISTT, "keepalive_interval_s"),
        (SmallestAISTT, "close_timeout_s"),
    ],
)
@pytest.mark.parametrize("value", [math.nan, -1.0, math.inf])
def test_durations_must_be_finite_and_positive(cls: type, name: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be a finite number of seconds > 0"):
        cls(api_key="sk_x", **{name: value})


# ---------------------------------------------------------------- 8: bounded error bodies


async def test_a_huge_http_error_body_is_read_only_in_part() -> None:
    async def huge_500(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        return await huge_body(tiny, request, 500, 256 * 1024 * 1024)

    async with Tiny(huge_500) as tiny:
        tts, _track = _tts(tiny.url, enable_streaming=False)
        try:
            with pytest.raises(SmallestError):
                await bounded(tts.synthesize("Hello."))
        finally:
            await tts.aclose()
        assert tiny.body_bytes_written < 32 * 1024 * 1024


async def test_a_huge_refusal_body_is_read_only_in_part() -> None:
    async def huge_503(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        return await huge_body(tiny, request, 503, 256 * 1024 * 1024)

    async with Tiny(huge_503) as tiny:
        tts, _track = _tts(tiny.url)
        try:
            with pytest.raises(SmallestError):
                await bounded(tts.synthesize("Hello."))
        finally:
            await tts.aclose()
        assert tiny.body_bytes_written < 32 * 1024 * 1024


# ---------------------------------------------------------------- 9: the key stays secret


def _quoting(kind: str) -> Any:
    async def handler(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        body = {"error": "Unauthorized", "message": f"Invalid API key {KEY}"}
        if kind == "refuse" or request.method == "POST":
            return web.json_response(body, status=401)
        ws, i = await tiny.accept(request)
        stt = request.path.endswith("/stt/live")
        if stt and kind == "close":
            await ws.close(code=1011, message=f"bad key {KEY}".encode())
            return ws
        while (msg := await tiny.receive(ws, i)) is not None:
            if stt:
                await ws.send_json({"type": "odd", "note": KEY})
                await ws.send_json({"type": "error", "message": f"key {KEY} is over quota"})
            elif msg.get("text"):
                await ws.send_json({"status": f"odd {KEY}"})
                await ws.send_json(
                    {"status": "error", "message": f"key {KEY} may not use this voice"}
                )
        return ws

    return handler


def _assert_secret(texts: list[str], caplog: pytest.LogCaptureFixture) -> None:
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert texts, "the failure was not reported"
    for text in texts + logged:
        assert KEY not in text


@pytest.mark.parametrize("kind", ["refuse", "frame"])
@pytest.mark.parametrize("streaming", [True, False])
async def test_tts_never_repeats_a_quoted_key(
    kind: str, streaming: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Tiny(_quoting(kind)) as tiny:
        tts, _track = _tts(tiny.url, enable_streaming=streaming, timeout=2.0)
        seen: list[str] = []
        tts.on("error", lambda e: seen.append(str(e)))
        try:
            with pytest.raises(SmallestError) as failed:
                await bounded(tts.synthesize("Hello there."))
            seen += [str(failed.value), repr(failed.value), str(failed.value.body)]
        finally:
            await tts.aclose()
    _assert_secret(seen, caplog)


@pytest.mark.parametrize("kind", ["refuse", "frame", "close"])
async def test_stt_never_repeats_a_quoted_key(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    audio_format.publish(16000, 1)
    async with Tiny(_quoting(kind)) as tiny:
        stt = SmallestAISTT(api_key=KEY, base_url=tiny.url)
        seen: list[str] = []
        stt.on("error", lambda e: seen.append(str(e)))
        for _ in range(10):
            await stt.process_audio(bytes(640))
            await asyncio.sleep(0.01)
        await bounded(wait_for(lambda: bool(seen)))
        await bounded(stt.aclose())
    _assert_secret(seen, caplog)


# ---------------------------------------------------------------- 6: STT reconnects

FRAME = bytes(640)
"""20 ms of 16 kHz mono, as the room delivers it."""


async def _pulse(tiny: Tiny, ws: web.WebSocketResponse, i: int) -> None:
    """Serve like Pulse: take audio until ``close_stream``, then the last final, then close."""
    while (msg := await tiny.receive(ws, i)) is not None:
        if msg.get("type") == "close_stream":
            await ws.send_json(
                {"type": "transcription", "transcript": "", "is_final": True, "is_last": True}
            )
            await ws.close()
            return


async def _feed_live(stt: SmallestAISTT, seconds: float) -> int:
    """Feed ``seconds`` of room audio in real time; returns the bytes given."""
    given = 0
    for _ in range(round(seconds / 0.02)):
        await stt.process_audio(FRAME)
        given += len(FRAME)
        await asyncio.sleep(0.02)
    return given


def _stt(url: str, **kw: Any) -> tuple[SmallestAISTT, list[str]]:
    audio_format.publish(16000, 1)
    stt = SmallestAISTT(api_key=KEY, base_url=url, **kw)
    errors: list[str] = []
    stt.on("error", lambda e: errors.append(str(e)))
    return stt, errors


async def test_stt_backs_off_when_the_server_closes_with_1008() -> None:
    async def rate_limited(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, _ = await tiny.accept(request)
        await ws.close(code=1008, message=b"Concurrency limit exceeded")
        return ws

    async with Tiny(rate_limited) as tiny:
        stt, errors = _stt(tiny.url)
        try:
            await _feed_live(stt, 1.5)
        finally:
            await bounded(stt.aclose())
        assert 1 <= tiny.attempts <= 3  # not 50 a second
        assert 1 <= len(errors) <= 2
        assert "Concurrency limit exceeded" in errors[0]


async def test_stt_recovers_after_refused_upgrades_without_losing_audio() -> None:
    async def refuse_twice(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        refusals = tiny.state.setdefault("refusals", [429, 503])
        if request.headers.get("Upgrade", "").lower() == "websocket" and refusals:
            tiny.state["last"] = refusals.pop(0)
        elif request.headers.get("Upgrade", "").lower() == "websocket":
            ws, i = await tiny.accept(request)
            await _pulse(tiny, ws, i)
            return ws
        status = tiny.state["last"]
        return web.json_response({"message": f"busy ({status})"}, status=status)

    async with Tiny(refuse_twice) as tiny:
        stt, errors = _stt(tiny.url)
        try:
            given = await _feed_live(stt, 3.0)
            await bounded(wait_for(lambda: bool(tiny.audio) and tiny.audio[0] >= given))
        finally:
            await bounded(stt.aclose())
        assert tiny.connections == 1
        assert tiny.audio == [given]  # what arrived while refused was sent once, after
        assert len(errors) == 1 and "busy (429)" in errors[0]


async def test_stt_mid_stream_drop_reports_once_and_resends_nothing_twice() -> None:
    async def drop_first(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, i = await tiny.accept(request)
        if i == 0:
            await tiny.take_audio(ws, i, 16000)
            await ws.close(code=1011, message=b"internal error")
            return ws
        await _pulse(tiny, ws, i)
        return ws

    async with Tiny(drop_first) as tiny:
        stt, errors = _stt(tiny.url)
        try:
            given = await _feed_live(stt, 2.0)

            def arrived() -> bool:
                return len(tiny.audio) == 2 and sum(tiny.audio) >= given - 3200

            await bounded(wait_for(arrived))
            await asyncio.sleep(0.2)
        finally:
            await bounded(stt.aclose())
        assert tiny.connections == 2
        assert given - 3200 <= sum(tiny.audio) <= given  # at most one frame lost in flight
        assert len(errors) == 1 and "internal error" in errors[0]


async def test_stt_aclose_while_reconnecting_raises_nothing() -> None:
    async def always_drop(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, i = await tiny.accept(request)
        await tiny.receive(ws, i)
        await ws.close(code=1011, message=b"internal error")
        return ws

    async with Tiny(always_drop) as tiny:
        stt, errors = _stt(tiny.url)
        await _feed_live(stt, 0.3)
        await bounded(wait_for(lambda: bool(errors)))
        await bounded(stt.aclose(), 3.0)
        await asyncio.sleep(0.5)
        attempts = tiny.attempts
        await asyncio.sleep(0.6)
        assert tiny.attempts == attempts  # nothing reconnects after the close
    leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("smallest-stt")]
    assert all(t.done() for t in leftover)


async def test_stt_errors_name_the_status_like_the_tts(emu: Emulator) -> None:
    stt, errors = _stt(emu.base_url)
    stt = SmallestAISTT(api_key="sk_invalid", base_url=emu.base_url)
    stt.on("error", lambda e: errors.append(str(e)))
    await _feed_live(stt, 0.1)
    await bounded(stt.aclose())
    assert len(errors) == 1
    assert "unauthorized" in errors[0] and "401" in errors[0]
