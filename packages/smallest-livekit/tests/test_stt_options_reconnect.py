"""``update_options`` reconnects a streaming session at once, even while no audio flows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from livekit_kit import key
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_livekit import STT


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(200):  # bounded: 2 s
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_update_options_reconnects_while_the_input_is_idle(emu: Emulator) -> None:
    engine = STT(api_key=key(), base_url=emu.base_url)
    stream = engine.stream()
    audio = frames(utterance("hello big world"))
    stream.push_frame(audio[0])
    await _until(lambda: len(emu.stt_log) == 1 and emu.stt_log[0].audio_bytes > 0, "audio")
    engine.update_options(language="hi")  # no audio is pushed after this
    await _until(lambda: stream.connections == 2 and len(emu.stt_log) == 2, "the reconnect")
    stream.end_input()
    _ = [ev async for ev in stream]
    await stream.aclose()
    first, second = emu.stt_log
    assert first.params["language"] != "hi" and second.params["language"] == "hi"
    assert first.audio_bytes + second.audio_bytes == len(audio[0].data.tobytes())
