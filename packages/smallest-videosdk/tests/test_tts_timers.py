"""The segment player waits for the server without arming a timer per audio frame."""

from __future__ import annotations

import asyncio
from typing import Any

from videosdk.agents import FlushMarker
from videosdk_kit import bounded, make_tts, tokens

from smallest_emulator import Emulator

LONG_REPLY = "One sentence after another keeps the server talking for a while. " * 6


async def test_a_paced_turn_arms_a_bounded_number_of_deadline_timers(emu: Emulator) -> None:
    emu.config.speed = 8.0  # paced: frames arrive one at a time, as at real-time pace
    tts, track = make_tts(emu)
    loop = asyncio.get_running_loop()
    armed: list[str] = []
    original = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kw: Any) -> Any:
        name = getattr(callback, "__qualname__", "")
        if "_Overdue" in name or name.startswith("Timeout."):
            armed.append(name)
        return original(when, callback, *args, **kw)

    loop.call_at = counting_call_at  # type: ignore[method-assign]
    try:
        await bounded(tts.synthesize(tokens(LONG_REPLY, FlushMarker())), limit_s=30)
    finally:
        loop.call_at = original  # type: ignore[method-assign]
        await tts.aclose()
    (record,) = emu.tts_log
    assert bytes(track.audio) == bytes(record.pcm)
    frames = len(record.pcm) // 1024
    assert frames > 50
    # One wake-up armed when text is sent, re-armed only if the deadline moves earlier;
    # a timer per frame would arm about one per frame.
    assert len(armed) <= 5, (len(armed), frames)
