"""The server's idle close (``?timeout=``) is transparent: the next turn reopens quietly."""

from __future__ import annotations

import asyncio
from typing import Any

from pipecat.frames.frames import TTSSpeakFrame
from pipecat_pipeline import Harness
from tts_common import make_tts, synthesized

from smallest_emulator import Emulator


async def test_idle_close_then_next_turn(default_emulator: Emulator) -> None:
    tts = make_tts(default_emulator, idle_timeout_s=1)
    closed = asyncio.Event()

    async def on_disconnected(service: Any) -> None:
        closed.set()

    tts.add_event_handler("on_disconnected", on_disconnected)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame("Before the idle close."))
        await asyncio.wait_for(closed.wait(), 5)
        await h.send(TTSSpeakFrame("After the idle close."))
        await h.end()
    assert not h.errors()
    assert len(h.stops()) == 2
    assert h.audio(h.context_ids()[-1]) == synthesized(default_emulator, "After the idle close.")
    assert tts.connections_opened == 2
    assert any("idle timeout 1s" in line for line in default_emulator.requests)
