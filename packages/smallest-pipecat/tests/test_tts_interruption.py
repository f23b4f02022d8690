"""Barge-in: the server context is cancelled on the same socket; nothing stale leaks."""

from __future__ import annotations

from pipecat.frames.frames import (
    InterruptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSTextFrame,
)
from pipecat_pipeline import Harness
from tts_common import is_audio_of, make_tts, synthesized

from smallest_emulator import Emulator

LONG = " ".join(f"Sentence number {i} keeps the bot talking for a while." for i in range(12))
AFTER = "Sure, go ahead."


async def test_interruption_cancels_without_reconnect(emulator: Emulator, profile: str) -> None:
    emulator.config.speed = 5.0  # paced: the first context is still streaming when cut
    tts = make_tts(emulator)
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(LONG))
        await h.wait_for(lambda: len(h.context_ids()) == 1 and len(h.audio()) > 4800)
        interrupted = h.context_ids()[0]
        await h.send(InterruptionFrame())
        await h.wait_for(lambda: bool(h.down.of(InterruptionFrame)))
        cut = len(h.down.seen)
        await h.send(TTSSpeakFrame(AFTER))
        await h.end()
    after = [s.frame for s in h.down.seen[cut:]]
    stale_audio = sum(
        len(f.audio)
        for f in after
        if isinstance(f, TTSAudioRawFrame) and is_audio_of(f, interrupted)
    )
    stale_words = [f for f in after if isinstance(f, TTSTextFrame) and f.context_id == interrupted]
    opened = emulator.ws_connections.opened_total
    print(f"[{profile}] stale bytes={stale_audio} stale words={len(stale_words)} sockets={opened}")
    assert stale_audio == 0
    assert not stale_words
    # close-after-complete: the server acknowledges the cancel with complete and closes.
    sockets = 2 if profile == "close-after-complete" else 1
    assert opened == sockets
    assert tts.connections_opened == sockets
    cancelled = [r for r in emulator.tts_log if r.cancelled]
    assert len(cancelled) == 1
    assert cancelled[0].text.strip() == LONG
    new_ids = [i for i in h.context_ids() if i != interrupted]
    assert len(new_ids) == 1
    assert h.audio(new_ids[0]) == synthesized(emulator, AFTER)
    assert not h.errors()
