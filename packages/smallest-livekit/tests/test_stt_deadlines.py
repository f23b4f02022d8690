"""The core's STT deadlines on LiveKit: a finalize or a close_stream the server never
answers is one recoverable error event each; the stream still ends, in bounded time."""

from __future__ import annotations

import asyncio

from livekit.agents import stt
from livekit_kit import key
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_livekit import STT

EV = stt.SpeechEventType


async def test_an_unanswered_finalize_and_close_are_reported(emu: Emulator) -> None:
    engine = STT(
        api_key=key(never_answer="true", transcript="hello there"),
        base_url=emu.base_url,
        finalize_timeout_s=0.3,
        close_timeout_s=0.3,
    )
    errors: list[stt.STTError] = []
    reported = asyncio.Event()

    def on_error(error: stt.STTError) -> None:
        errors.append(error)
        reported.set()

    engine.on("error", on_error)
    stream = engine.stream()
    for frame in frames(utterance("hello there")):
        stream.push_frame(frame)
    stream.flush()  # finalize: never answered
    async with asyncio.timeout(10):
        await reported.wait()
        stream.end_input()  # close_stream: never answered either
        events = [ev async for ev in stream]
    await stream.aclose()
    messages = [str(e.error) for e in errors]
    assert any("no final transcript within 0.3 s of finalize" in m for m in messages)
    assert any("no last transcript within 0.3 s of close_stream" in m for m in messages)
    assert all(e.recoverable for e in errors)
    assert [ev for ev in events if ev.type is EV.FINAL_TRANSCRIPT] == []


async def test_an_answered_finalize_reports_nothing(emu: Emulator) -> None:
    engine = STT(
        api_key=key(transcript="hello there"), base_url=emu.base_url, finalize_timeout_s=0.3
    )
    errors: list[stt.STTError] = []
    engine.on("error", errors.append)
    stream = engine.stream()
    for frame in frames(utterance("hello there")):
        stream.push_frame(frame)
    stream.flush()
    stream.end_input()
    async with asyncio.timeout(10):
        events = [ev async for ev in stream]
    await stream.aclose()
    finals = [ev.alternatives[0].text for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert finals == ["hello there"]
    assert errors == []
