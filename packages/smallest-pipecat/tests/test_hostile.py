"""Hostile servers and hostile arguments: redirects, oversized or non-audio answers,
absurd word times, refused or dropped STT sockets, bad keys, timeouts and text."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from typing import Any

import pytest
from aiohttp import web
from emulator_helpers import emulator_key
from pipecat.frames.frames import (
    TranscriptionFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.utils.errors import ErrorCategory
from pipecat_hostile import (
    KEY,
    SttServer,
    Tiny,
    http_tts,
    not_found,
    pcm_chunk,
    redirect_to,
    stt,
    tts,
    tts_server,
    tts_turn,
)
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, SECOND, audio_frames, speech

from smallest_core import MAX_FRAME_BYTES
from smallest_emulator import Emulator
from smallest_pipecat import SmallestSTTService

"""Long enough to be redacted (short test keys are not searched for)."""


def opened(service: SmallestSTTService, count: int) -> asyncio.Event:
    """Set once ``service`` has opened its ``count``-th socket."""
    event = asyncio.Event()

    async def on_connected(_: object) -> None:
        if service.connections_opened >= count:
            event.set()

    service.add_event_handler("on_connected", on_connected)
    return event


# ---------------------------------------------------------------------------- 1 redirects
@pytest.mark.parametrize("service", ["tts", "stt"])
async def test_authenticated_sockets_never_follow_a_redirect(service: str) -> None:
    async with Tiny(not_found) as elsewhere, Tiny(redirect_to(elsewhere, websocket=True)) as api:
        make = tts if service == "tts" else stt
        async with Harness(make(api.url)) as h:
            await h.wait_for(lambda: bool(h.errors()))
            await h.end(within=10)
    assert api.requests and api.saw(KEY)  # the configured server got the upgrade
    assert elsewhere.requests == [] and not elsewhere.saw(KEY)
    error = h.errors()[0]
    assert "302" in error.error and f"127.0.0.1:{elsewhere.port}" in error.error
    assert KEY not in error.error


async def test_http_tts_never_follows_a_redirect() -> None:
    async with (
        Tiny(not_found) as elsewhere,
        Tiny(redirect_to(elsewhere, websocket=False)) as api,
        Harness(http_tts(api.url)) as h,
    ):
        await h.send(TTSSpeakFrame("Hello there."))
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.end()
    assert api.requests and elsewhere.requests == []
    (error,) = h.errors()
    assert "302" in error.error and f"127.0.0.1:{elsewhere.port}" in error.error
    assert h.audio() == b""


# ---------------------------------------------------------------------------- 3 arguments
@pytest.mark.parametrize("make", [tts, http_tts, stt])
@pytest.mark.parametrize("bad", [f"{KEY}\r\nX-Injected: 1", f"sk_a\rb{KEY}", f"{KEY}\nx"])
async def test_key_with_line_breaks_is_refused(make: Any, bad: str) -> None:
    async with Tiny(not_found) as api:
        with pytest.raises(ValueError, match="control characters") as info:
            make(api.url, key=bad)
        assert KEY not in str(info.value)
    assert api.requests == []  # nothing was put on the wire


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (tts, "response_timeout_s"),
        (tts, "idle_timeout_s"),
        (http_tts, "timeout_s"),
        (stt, "close_timeout_s"),
        (stt, "response_timeout_s"),
    ],
)
@pytest.mark.parametrize("value", [math.nan, -1.0, math.inf])
def test_timeouts_must_be_finite_and_positive(make: Any, name: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be a finite number of seconds > 0"):
        make("http://127.0.0.1:9", **{name: value})


@pytest.mark.parametrize("make", [tts, http_tts, stt])
def test_sample_rate_must_be_one_the_api_knows(make: Any) -> None:
    with pytest.raises(ValueError, match=r"sample_rate 7; allowed: .*16000.*24000"):
        make("http://127.0.0.1:9", sample_rate=7)


# ---------------------------------------------------------------------------- 4 word times
def absurd_word_first(context_id: str, turn: int) -> list[Any]:
    start = 1e308 if turn == 1 else 0.0
    data = {"id": 0, "word": "Hi", "start": start, "end": start}
    word = {"status": "word_timestamp", "data": data}
    return tts_turn(context_id, word)


async def test_absurd_word_time_is_ignored_and_the_next_turn_plays(logs: list[str]) -> None:
    async with (
        Tiny(tts_server(absurd_word_first)) as api,
        Harness(tts(api.url, response_timeout_s=2.0)) as h,
    ):
        await h.send(TTSSpeakFrame("Hi."))
        await h.wait_for(lambda: len(h.stops()) == 1, within=5)
        await h.send(TTSSpeakFrame("Hi again."))
        await h.wait_for(lambda: len(h.stops()) == 2, within=5)
        await h.end()
    first, second = h.context_ids()
    expected = base64.b64decode(pcm_chunk()["audio"])
    assert h.audio(first) == h.audio(second) == expected
    assert all(math.isfinite(w.pts or 0) for w in h.words())
    assert h.errors() == []
    assert any("ignored a server frame" in line for line in logs)


# ---------------------------------------------------------------------------- 5 STT reconnects
async def test_stt_recovers_from_a_rate_limited_start(default_emulator: Emulator) -> None:
    emu = default_emulator
    emu.config.http_status = 429  # Retry-After: 1
    service = stt(emu.base_url, key=emulator_key("sk_test", transcript=FIRST))
    pcm = speech(FIRST)
    connected = opened(service, 1)
    async with Harness(service, in_rate=RATE) as h:
        await h.wait_for(lambda: bool(h.errors()))
        refused = time.monotonic()
        emu.config.http_status = None
        await h.send(*audio_frames(pcm))  # arrives while the service waits to retry
        await asyncio.wait_for(connected.wait(), 5)
        assert time.monotonic() - refused >= 0.9  # the server's Retry-After was honoured
        await h.end()
    (error,) = h.errors()
    assert error.category == ErrorCategory.RATE_LIMIT and service.is_usable
    assert [f.text for f in h.down.of(TranscriptionFrame)] == [FIRST]
    (record,) = emu.stt_log
    assert record.audio_bytes == len(pcm)  # no audio of the call was dropped


async def close_4000(ws: web.WebSocketResponse) -> None:
    await ws.close(code=4000, message=b"server restarting")


async def oversized_frame(ws: web.WebSocketResponse) -> None:
    await ws.send_str(json.dumps({"type": "transcription", "transcript": "x" * MAX_FRAME_BYTES}))


@pytest.mark.parametrize("fault", [close_4000, oversized_frame], ids=["close-4000", "1009"])
async def test_stt_mid_stream_drop_reports_once_and_resends(fault: Any, logs: list[str]) -> None:
    server = SttServer(fault)
    pcm = speech(FIRST)
    async with Tiny(server) as api:
        service = stt(api.url)
        reconnected = opened(service, 2)
        async with Harness(service, in_rate=RATE) as h:
            await h.send(*audio_frames(pcm))
            await asyncio.wait_for(reconnected.wait(), 5)
            await h.end(within=10)
    (error,) = h.errors()
    assert error.category == ErrorCategory.CONNECTIVITY or error.category == ErrorCategory.UNKNOWN
    assert not error.category.is_permanent and not error.fatal and service.is_usable
    assert server.audio[0] >= server.after_bytes
    assert server.audio[1] == len(pcm)  # every byte since the last final, once
    assert [f.text for f in h.down.of(TranscriptionFrame)] == [server.transcript]
    assert not [line for line in logs if "Traceback" in line or "exception" in line.lower()]


async def test_stt_resends_only_the_audio_since_the_last_final() -> None:
    first, second = speech(FIRST), speech(SECOND)
    server = SttServer(close_4000, after_bytes=len(first) + RATE)
    async with Tiny(server) as api:
        service = stt(api.url)
        reconnected = opened(service, 2)
        async with Harness(service, in_rate=RATE) as h:
            await h.send(VADUserStartedSpeakingFrame(), *audio_frames(first))
            await h.send(VADUserStoppedSpeakingFrame())
            await h.wait_for(lambda: len(h.down.of(TranscriptionFrame)) == 1)
            await h.send(VADUserStartedSpeakingFrame(), *audio_frames(second))
            await asyncio.wait_for(reconnected.wait(), 5)
            await h.end(within=10)
    assert len(h.errors()) == 1
    assert server.audio[1] == len(second)  # the first utterance was final: not resent
    assert [f.text for f in h.down.of(TranscriptionFrame)] == [server.transcript] * 2


# ---------------------------------------------------------------------------- 6 non-audio 200


# ---------------------------------------------------------------------------- 7 bounds
def large_audio(context_id: str, turn: int) -> list[Any]:
    return tts_turn(context_id, chunk=pcm_chunk(900_000))  # a 2.4 MB frame


async def test_tts_accepts_frames_up_to_the_frame_limit() -> None:
    async with (
        Tiny(tts_server(large_audio)) as api,
        Harness(tts(api.url, word_timestamps=False)) as h,
    ):
        await h.send(TTSSpeakFrame("Hello there."))
        await h.wait_for(lambda: len(h.stops()) == 1, within=10)
        await h.end()
    assert h.errors() == []
    assert len(h.audio()) == 1_800_000


async def endless_error_body(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=500, headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    await response.write(b"Upstream exploded. ")
    for _ in range(2000):  # bounded: the client must stop reading long before
        await response.write(b"x" * 65536)
        await asyncio.sleep(0.005)
    return response


async def test_http_error_body_is_read_only_up_to_the_limit() -> None:
    async with Tiny(endless_error_body) as api, Harness(http_tts(api.url, timeout_s=20)) as h:
        sent = time.monotonic()
        await h.send(TTSSpeakFrame("Hello there."))
        await h.wait_for(lambda: len(h.stops()) == 1, within=15)
        took = time.monotonic() - sent
        await h.end()
    (error,) = h.errors()
    assert "Upstream exploded" in error.error
    assert took < 3  # not the request timeout: reading stopped at the limit


# ---------------------------------------------------------------------------- 8 surrogates
LONE = "Hello \ud800 there."


def plain_turn(context_id: str, turn: int) -> list[Any]:
    return tts_turn(context_id)


async def test_lone_surrogate_is_a_clear_error_on_the_socket() -> None:
    async with Tiny(tts_server(plain_turn)) as api:
        service = tts(api.url)
        async with Harness(service) as h:
            await h.send(TTSSpeakFrame(LONE))
            await h.wait_for(lambda: len(h.stops()) == 1, within=5)
            await h.send(TTSSpeakFrame("Hello there."))
            await h.wait_for(lambda: len(h.stops()) == 2, within=5)
            await h.end()
    (error,) = h.errors()
    assert "surrogate U+D800" in error.error
    assert error.category == ErrorCategory.APPLICATION
    assert service.connections_opened == 1 and service.is_usable
    assert len(h.context_ids()) == 1  # the next turn played


async def test_lone_surrogate_is_a_clear_error_over_http() -> None:
    async with Tiny(not_found) as api, Harness(http_tts(api.url)) as h:
        await h.send(TTSSpeakFrame(LONE))
        await h.wait_for(lambda: len(h.stops()) == 1, within=5)
        await h.end()
    (error,) = h.errors()
    assert "surrogate U+D800" in error.error
    assert error.category == ErrorCategory.APPLICATION
    assert api.requests == []
    assert len(h.down.of(TTSStoppedFrame)) == 1
