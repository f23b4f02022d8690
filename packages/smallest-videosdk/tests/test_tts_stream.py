"""SmallestAITTS over the WebSocket, driven like the VideoSDK pipeline drives it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from videosdk.agents import FlushMarker
from videosdk_kit import (
    PROFILES,
    bounded,
    fast_config,
    full_collections,
    make_tts,
    tokens,
    wait_for,
)

from smallest_emulator import Emulator, EmulatorThread

THREE_SENTENCES = (
    "Hello there, my friend.",
    " The weather",
    " is lovely today.",
    " Shall we go for a walk?",
)


def context_audio(emu: Emulator) -> bytes:
    return b"".join(bytes(r.pcm) for r in emu.tts_log if r.transport == "ws")


@pytest.mark.parametrize("profile", PROFILES)
async def test_multi_sentence_turn_is_byte_exact_and_gap_free(emu: Emulator, profile: str) -> None:
    emu.config.speed = 8.0  # paced, faster than real time
    tts, track = make_tts(emu, profile)
    errors: list[str] = []
    tts.on("error", lambda e: errors.append(e))
    try:
        await bounded(tts.synthesize(tokens(*THREE_SENTENCES, FlushMarker(), delay=0.01)))
        assert errors == []
        assert len(emu.tts_log) == 1  # one context for the whole turn
        record = emu.tts_log[0]
        assert record.text == "".join(THREE_SENTENCES)
        assert bytes(track.audio) == bytes(record.pcm)
        dead_air = track.dead_air_s()
        print(f"[measure] profile={profile} dead_air_ms={dead_air * 1000:.1f}")
        # One context streams the whole turn, so a player never waits on the server; the
        # allowance is event-loop jitter on a loaded two-core machine (CI measured 1.4 ms).
        assert dead_air <= 0.02
    finally:
        await tts.aclose()


@pytest.mark.parametrize("profile", PROFILES)
async def test_turns_reuse_one_socket_and_never_mix(emu: Emulator, profile: str) -> None:
    tts, track = make_tts(emu, profile)
    try:
        await bounded(tts.synthesize("First turn here."))
        first = bytes(track.audio)
        await bounded(tts.synthesize(tokens("Second", " turn", " now.", FlushMarker())))
        assert [r.text for r in emu.tts_log] == ["First turn here.", "Second turn now."]
        assert first == bytes(emu.tts_log[0].pcm)
        assert bytes(track.audio) == first + bytes(emu.tts_log[1].pcm)
        if profile != "close-after-complete":
            assert emu.ws_connections.opened_total == 1
    finally:
        await tts.aclose()


@pytest.mark.parametrize("profile", PROFILES)
async def test_flush_marker_closes_the_context_and_starts_a_new_one(
    emu: Emulator, profile: str
) -> None:
    tts, track = make_tts(emu, profile)
    try:
        await bounded(
            tts.synthesize(
                tokens("One sentence.", FlushMarker(), " Another", " one.", FlushMarker())
            )
        )
        assert [r.text for r in emu.tts_log] == ["One sentence.", " Another one."]
        assert bytes(track.audio) == context_audio(emu)
    finally:
        await tts.aclose()


@pytest.mark.parametrize("profile", PROFILES)
async def test_interrupt_cancels_on_the_server_and_leaks_nothing(
    emu: Emulator, profile: str
) -> None:
    emu.config.speed = 2.0  # audio still in flight when the user barges in
    tts, track = make_tts(emu, profile)
    try:
        first_audio = asyncio.Event()
        track.on_push = first_audio.set
        turn = asyncio.create_task(tts.synthesize(tokens(*THREE_SENTENCES, FlushMarker())))
        await bounded(first_audio.wait())
        await tts.interrupt()
        interrupted_at = len(track.audio)
        await bounded(turn, 1.0)  # returns promptly, without raising
        assert track.interrupts == 1
        # Second turn on the same TTS: every byte must be its own.
        track.on_push = None
        await bounded(tts.synthesize("Fresh start."))
        cancelled, fresh = emu.tts_log[0], emu.tts_log[-1]
        assert cancelled.cancelled
        assert fresh.text == "Fresh start."
        stale = len(track.audio) - interrupted_at - len(fresh.pcm)
        print(f"[measure] profile={profile} stale_bytes_per_interruption={stale}")
        assert bytes(track.audio[interrupted_at:]) == bytes(fresh.pcm)
    finally:
        await tts.aclose()


@pytest.mark.parametrize("profile", PROFILES)
async def test_idle_close_is_transparent(emu: Emulator, profile: str) -> None:
    tts, track = make_tts(emu, profile, overrides={"idle_timeout_s": 0.2})
    errors: list[str] = []
    tts.on("error", lambda e: errors.append(e))
    try:
        await bounded(tts.synthesize("Before the idle close."))
        await wait_for(lambda: emu.ws_connections.open_now == 0)
        await bounded(tts.synthesize("After the idle close."))
        assert errors == []
        assert bytes(track.audio) == context_audio(emu)
        assert emu.ws_connections.opened_total == 2
    finally:
        await tts.aclose()


async def test_prewarm_opens_the_socket_used_by_the_first_turn(emu: Emulator) -> None:
    tts, track = make_tts(emu)
    try:
        await tts.prewarm()
        assert emu.ws_connections.opened_total == 1
        await bounded(tts.synthesize("Warm."))
        assert emu.ws_connections.opened_total == 1
        assert bytes(track.audio) == context_audio(emu)
    finally:
        await tts.aclose()
    assert emu.ws_connections.open_now == 0 or await _closed(emu)


async def _closed(emu: Emulator) -> bool:
    await wait_for(lambda: emu.ws_connections.open_now == 0)
    return True


async def test_first_audio_callback_fires_once_per_turn(emu: Emulator) -> None:
    tts, _track = make_tts(emu)
    calls: list[int] = []

    async def on_first() -> None:
        calls.append(1)

    tts.on_first_audio_byte(on_first)
    try:
        for _ in range(2):
            tts.reset_first_audio_tracking()
            await bounded(tts.synthesize(tokens(*THREE_SENTENCES, FlushMarker())))
        assert calls == [1, 1]
    finally:
        await tts.aclose()


async def test_a_socket_lost_between_turns_is_replaced(emu: Emulator) -> None:
    tts, track = make_tts(emu)
    try:
        await bounded(tts.synthesize("Warm up."))
        sock = tts._socket
        assert sock is not None
        await sock.ws.close()  # the socket dies between turns
        await bounded(tts.synthesize("After a drop."))
        assert bytes(track.audio) == context_audio(emu)
    finally:
        await tts.aclose()


async def test_closing_does_not_force_a_process_wide_garbage_collection(emu: Emulator) -> None:
    tts, _track = make_tts(emu)
    await bounded(tts.synthesize("Hello there."))
    with full_collections() as collections:
        await bounded(tts.aclose())
    assert collections == []  # every other session in the process would stall for it


async def test_a_burst_of_chunks_reaches_the_track_in_batches() -> None:
    # A server on its own thread, unpaced, sends faster than the client reads: bursts.
    with EmulatorThread(fast_config()) as emu:
        tts, track = make_tts(emu)
        try:
            await bounded(tts.synthesize(" ".join(["A reply that needs many chunks."] * 6)))
        finally:
            await tts.aclose()
    rec = emu.tts_log[-1]
    assert bytes(track.audio) == bytes(rec.pcm)  # same bytes, in order
    pushes = [n for _, n in track.pushes if n]
    assert len(pushes) < rec.chunks_sent  # a push per socket read's worth, not per chunk


async def test_a_failing_text_source_ends_the_turn_at_once_with_its_error() -> None:
    class LlmBroke(Exception):
        pass

    async def broken_llm(track: Any) -> Any:
        yield "The first sentence arrives and is spoken. "
        await wait_for(lambda: len(track.audio) > 4096)  # its audio is flowing
        raise LlmBroke("the model stream broke")

    # A threaded server keeps audio queued behind the failure, where it must not hide it.
    with EmulatorThread(fast_config()) as emu:
        tts, track = make_tts(emu, timeout=20.0)
        try:
            started = time.monotonic()
            with pytest.raises(LlmBroke):
                await bounded(tts.synthesize(broken_llm(track)))
            assert time.monotonic() - started < 5  # not after the 20 s receive timeout
        finally:
            await tts.aclose()
