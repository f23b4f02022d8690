"""SmallestAITTSV4: Lightning v4 live sessions driven the way the VideoSDK pipeline drives TTS."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from videosdk.agents import FlushMarker, audio_format
from videosdk_hostile import PCM_CHUNK, Tiny
from videosdk_kit import FakeTrack, bounded, full_collections, key_for, make_stt, tokens, wait_for
from videosdk_stt_kit import feed, silence, speech

from smallest_core import ErrorKind, SmallestError
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAITTSV4


def make_v4(emu: Emulator, **kw: Any) -> tuple[SmallestAITTSV4, FakeTrack, list[str]]:
    overrides = kw.pop("overrides", {})
    tts = SmallestAITTSV4(api_key=key_for("default", **overrides), base_url=emu.base_url, **kw)
    track = FakeTrack()
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = track
    errors: list[str] = []
    tts.on("error", lambda message: errors.append(message))
    return tts, track, errors


def v4_records(emu: Emulator) -> list[Any]:
    return [r for r in emu.tts_log if r.transport == "v4"]


async def test_each_sentence_is_a_turn_and_the_audio_is_what_the_server_made(
    emu: Emulator,
) -> None:
    tts, track, errors = make_v4(emu)
    try:
        await bounded(
            tts.synthesize(tokens("Hello there", ", friend. ", "How are", " you?", FlushMarker()))
        )
        first = bytes(track.audio)
        await bounded(tts.synthesize("Goodbye now."))
        records = v4_records(emu)
        assert [r.text.strip() for r in records] == [
            "Hello there, friend.",
            "How are you?",
            "Goodbye now.",
        ]
        assert first == bytes(records[0].pcm) + bytes(records[1].pcm)
        assert bytes(track.audio) == first + bytes(records[2].pcm)
        assert all(r.done and r.sample_rate == 24000 for r in records)
        assert emu.ws_connections.per_route["lightning-v4"] == 1  # one session, reused
        assert errors == []
    finally:
        await bounded(tts.aclose())
    await bounded(wait_for(lambda: emu.ws_connections.open_now == 0))


async def test_interrupt_stops_the_turn_on_the_same_session_and_leaves_no_stale_audio(
    emu: Emulator,
) -> None:
    emu.config.speed = 1.0  # real-time pacing, so the interrupt lands mid-turn
    tts, track, errors = make_v4(emu)
    try:
        long_text = "This is a long reply that keeps going for quite a while. " * 4
        speaking = asyncio.create_task(tts.synthesize(tokens(long_text, "And more. ")))
        await bounded(wait_for(lambda: len(track.audio) > 4800))
        await bounded(tts.interrupt())
        await bounded(speaking, 2.0)
        assert track.interrupts == 1
        interrupted = v4_records(emu)
        assert len(interrupted) == 5  # the sentences spoken so far
        await bounded(wait_for(lambda: all(r.cancelled for r in interrupted)))
        emu.config.speed = 0.0
        before = len(track.audio)
        await bounded(tts.synthesize("Next."))
        last = v4_records(emu)[-1]
        assert last.text == "Next."
        assert bytes(track.audio[before:]) == bytes(last.pcm)  # nothing of the old turn
        assert emu.ws_connections.per_route["lightning-v4"] == 1  # no reconnect
        assert errors == []
    finally:
        await bounded(tts.aclose())


async def test_audio_at_another_rate_reaches_the_track_at_24k_with_its_exact_length(
    emu: Emulator,
) -> None:
    tts, track, _ = make_v4(emu, sample_rate=48000)
    try:
        await bounded(tts.synthesize("Resample me, please."))
        made = len(v4_records(emu)[0].pcm) // 2
        assert len(track.audio) // 2 == round(made * 24000 / 48000)
    finally:
        await bounded(tts.aclose())


async def test_no_access_to_v4_is_a_clear_error(emu: Emulator) -> None:
    tts, track, errors = make_v4(emu, overrides={"v4_access": "false"})
    try:
        with pytest.raises(SmallestError) as caught:
            await bounded(tts.synthesize("Hello."))
        assert caught.value.code == "model_access_denied"
        assert caught.value.kind is ErrorKind.AUTH
        assert "ask Smallest AI for access" in caught.value.message
        assert len(errors) == 1 and "this account has no Lightning v4 access" in errors[0]
        assert track.audio == b""
    finally:
        await bounded(tts.aclose())
    await bounded(wait_for(lambda: emu.ws_connections.open_now == 0))


async def test_an_unknown_voice_fails_with_the_server_message(emu: Emulator) -> None:
    tts, _, errors = make_v4(emu, voice_id="nobody")
    try:
        with pytest.raises(SmallestError, match="unknown Lightning v4 voice"):
            await bounded(tts.synthesize("Hello."))
        assert errors and "unknown Lightning v4 voice 'nobody'" in errors[0]
    finally:
        await bounded(tts.aclose())


async def test_a_dropped_session_is_replaced_on_the_next_turn(
    emu: Emulator,
) -> None:
    tts, track, errors = make_v4(emu)
    try:
        await bounded(tts.synthesize("First."))
        sock = tts._socket
        assert sock is not None
        await sock.ws.close()  # the transport drops between turns
        await bounded(wait_for(lambda: not sock.usable))
        await bounded(tts.synthesize("Second."))
        assert v4_records(emu)[-1].text == "Second."
        assert bytes(track.audio).endswith(bytes(v4_records(emu)[-1].pcm))
        assert emu.ws_connections.per_route["lightning-v4"] == 2
        assert errors == []
    finally:
        await bounded(tts.aclose())


async def test_the_callers_turn_reaches_the_session(emu: Emulator) -> None:
    tts, _, _ = make_v4(emu)
    await bounded(tts.add_user_turn("I would like a refund.", b"\x10\x00" * 1600, 16000))
    with pytest.raises(ValueError, match="both its transcript and its audio"):
        await tts.add_user_turn("No audio.", b"", 16000)
    await bounded(tts.synthesize("Of course."))
    await bounded(tts.aclose())
    await bounded(wait_for(lambda: any("context=1" in line for line in emu.requests)))


async def test_a_failing_text_source_fails_the_turn(emu: Emulator) -> None:
    tts, _, _ = make_v4(emu)

    async def broken() -> Any:
        yield "Hello there. "
        raise RuntimeError("the LLM stream broke")

    try:
        with pytest.raises(RuntimeError, match="the LLM stream broke"):
            await bounded(tts.synthesize(broken()))
    finally:
        await bounded(tts.aclose())


async def test_closed_and_bad_options() -> None:
    with pytest.raises(ValueError, match="speed"):
        SmallestAITTSV4(api_key="sk_x", speed=3.0)
    with pytest.raises(ValueError, match="8000, 16000, 24000, 44100, 48000"):
        SmallestAITTSV4(api_key="sk_x", sample_rate=22050)
    with pytest.raises(ValueError, match="en, auto"):
        SmallestAITTSV4(api_key="sk_x", language="de")
    tts = SmallestAITTSV4(api_key="sk_x")
    assert tts.model == "lightning-v4" and tts.voice_id == "brannock"
    await tts.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await tts.synthesize("Hello.")


async def test_a_refused_upgrade_carries_the_server_message_and_the_next_turn_works(
    emu: Emulator,
) -> None:
    tts, track, errors = make_v4(emu)
    try:
        emu.config.http_status = 503
        with pytest.raises(SmallestError, match="Service temporarily unavailable"):
            await bounded(tts.synthesize("Hello."))
        assert errors and "Service temporarily unavailable" in errors[0]
        emu.config.http_status = None
        await bounded(tts.synthesize("Hello again."))
        assert bytes(track.audio) == bytes(v4_records(emu)[-1].pcm)
    finally:
        await bounded(tts.aclose())


async def test_an_unauthorized_key_is_reported() -> None:
    async with Emulator() as emu:
        tts = SmallestAITTSV4(api_key="sk_invalid", base_url=emu.base_url)
        tts.audio_track = FakeTrack()
        errors: list[str] = []
        tts.on("error", lambda message: errors.append(message))
        with pytest.raises(SmallestError) as caught:
            await bounded(tts.synthesize("Hello."))
        await bounded(tts.aclose())
    assert caught.value.kind is ErrorKind.AUTH
    assert errors and "unauthorized" in errors[0].lower()


async def test_prewarm_opens_the_session_and_first_audio_is_reported_once_per_turn(
    emu: Emulator,
) -> None:
    tts, _, _ = make_v4(emu)
    firsts: list[int] = []

    async def first_audio() -> None:
        firsts.append(len(v4_records(emu)))

    tts.on_first_audio_byte(first_audio)
    try:
        await bounded(tts.prewarm())
        assert emu.ws_connections.per_route["lightning-v4"] == 1
        for text in ("One sentence. And another.", "A second turn."):
            tts.reset_first_audio_tracking()
            await bounded(tts.synthesize(tokens(text, FlushMarker())))
        assert len(firsts) == 2
        assert emu.ws_connections.per_route["lightning-v4"] == 1
    finally:
        await bounded(tts.aclose())


async def test_closing_does_not_force_a_process_wide_garbage_collection(emu: Emulator) -> None:
    tts, _, _ = make_v4(emu)
    await bounded(tts.synthesize("Hello."))
    with full_collections() as collections:
        await bounded(tts.aclose())
    assert collections == []


async def test_the_stt_hands_each_user_turn_to_the_session(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, eou_timeout_ms=300, overrides={"transcript": "i want a refund"})
    tts, _, _ = make_v4(emu)
    heard: list[tuple[str, int, int]] = []

    async def listener(text: str, pcm: bytes, rate: int) -> None:
        heard.append((text, len(pcm), rate))
        await tts.add_user_turn(text, pcm, rate)

    stt.on_user_turn(listener)
    try:
        await feed(stt, speech(0.8, 16000) + silence(0.6, 16000), 16000)
        await bounded(wait_for(lambda: bool(heard)))
        ((text, size, rate),) = heard
        assert (text, rate) == ("i want a refund", 16000)
        assert 0.8 * 16000 * 2 <= size <= emu.stt_log[0].audio_bytes
        await bounded(tts.synthesize("Of course."))
    finally:
        await bounded(stt.aclose())
        await bounded(tts.aclose())
    await bounded(wait_for(lambda: any("v4 turns=1 context=1" in r for r in emu.requests)))


def v4_server(audio_before_drop: bool) -> Any:
    """A scripted v4 server: the first session drops after the first ``speak`` (with or
    without audio first); later sessions speak every turn."""

    async def handler(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        ws, index = await tiny.accept(request)
        await ws.send_json({"event": "ready", "session_id": f"v4_{index}"})
        await ws.send_json({"event": "ready", "sample_rate": 24000})
        while (msg := await tiny.receive(ws, index)) is not None:
            if msg.get("event") != "speak":
                continue
            turn = {"turn_id": msg["turn_id"]}
            await ws.send_json({"event": "turn_start", **turn})
            if index > 0 or audio_before_drop:
                await ws.send_bytes(PCM_CHUNK * 4)
            if index == 0:
                await ws.close(code=1011, message=b"voice server lost")
                break
            await ws.send_json({"event": "turn_end", **turn})
        return ws

    return handler


async def test_a_session_lost_before_any_audio_is_replayed_once() -> None:
    async with Tiny(v4_server(audio_before_drop=False)) as server:
        tts = SmallestAITTSV4(base_url=server.url)
        track = FakeTrack()
        tts.audio_track = track
        errors: list[str] = []
        tts.on("error", lambda message: errors.append(message))
        try:
            await bounded(tts.synthesize(tokens("Hello there. ", "How are you?", FlushMarker())))
        finally:
            await bounded(tts.aclose())
    assert server.connections == 2
    assert [t.strip() for t in server.texts[1]] == ["Hello there.", "How are you?"]
    assert bytes(track.audio) == PCM_CHUNK * 8  # each sentence once
    assert errors == []


async def test_a_session_lost_after_audio_fails_the_turn_with_its_reason() -> None:
    async with Tiny(v4_server(audio_before_drop=True)) as server:
        tts = SmallestAITTSV4(base_url=server.url)
        track = FakeTrack()
        tts.audio_track = track
        errors: list[str] = []
        tts.on("error", lambda message: errors.append(message))
        try:
            with pytest.raises(SmallestError, match="voice server lost") as caught:
                await bounded(tts.synthesize("Hello there."))
        finally:
            await bounded(tts.aclose())
    assert caught.value.kind is ErrorKind.CONNECTION
    assert server.connections == 1
    assert bytes(track.audio) == PCM_CHUNK * 4  # never played twice
    assert errors and "voice server lost" in errors[0]
