"""A 1 s server pause inside a context loses nothing and ends no context early."""

from __future__ import annotations

from pipecat.frames.frames import TTSSpeakFrame
from pipecat_pipeline import Harness
from tts_common import make_tts, synthesized

from smallest_emulator import Emulator

TEXT = "The server pauses for a whole second in the middle of this sentence, then goes on."


async def test_pause_loses_no_tail_audio(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator, key="sk_test;pause_ms=1000;pause_after_chunks=3")
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(TEXT))
        await h.end()
    expected = synthesized(emulator, TEXT)
    (context,) = h.context_ids()
    got = h.audio(context)
    print(f"[{profile}] bytes lost under a 1 s pause: {len(expected) - len(got)}")
    assert got == expected
    assert len(h.stops()) == 1
    assert not h.errors()
