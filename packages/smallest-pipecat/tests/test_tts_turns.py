"""Turns on one persistent socket: byte-exact audio per context, prompt context ends."""

from __future__ import annotations

import itertools

from pipecat.frames.frames import (
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
)
from pipecat_pipeline import Harness
from tts_common import is_audio_of, make_tts, synthesized

from smallest_emulator import Emulator, EmulatorConfig, EmulatorThread


async def test_llm_turn_is_one_context_and_byte_exact(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator)
    sentences = ["Hello there, friend. ", "This is the second sentence. ", "And a third one!"]
    async with Harness(tts) as h:
        await h.send(LLMFullResponseStartFrame())
        for s in sentences:
            await h.send(LLMTextFrame(s))
        await h.send(LLMFullResponseEndFrame())
        await h.end()
    ids = h.context_ids()
    assert len(ids) == 1
    assert len(h.down.of(TTSStartedFrame)) == 1
    assert len(h.stops()) == 1
    assert not h.errors()
    records = [r for r in emulator.tts_log if r.transport == "ws"]
    assert len(records) == 1
    assert records[0].text == "".join(sentences) + " "
    assert h.audio(ids[0]) == bytes(records[0].pcm)
    assert emulator.ws_connections.per_route.get("tts", emulator.ws_connections.opened_total) == 1


async def test_back_to_back_utterances_share_the_socket(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator)
    texts = ["First utterance here.", "Second one follows.", "Third and last."]
    async with Harness(tts) as h:
        for t in texts:
            await h.send(TTSSpeakFrame(t))
        await h.end()
    ids = h.context_ids()
    assert len(ids) == 3
    assert len(h.stops()) == 3
    assert not h.errors()
    assert [h.audio(i) for i in ids] == [synthesized(emulator, t) for t in texts]
    if profile != "close-after-complete":
        assert tts.connections_opened == 1
    # Gap between the end of one utterance's audio and the start of the next.
    gaps = []
    for prev, nxt in itertools.pairwise(ids):
        last = max(s.at for s in h.down.seen if is_audio_of(s.frame, prev))
        first = min(s.at for s in h.down.seen if is_audio_of(s.frame, nxt))
        gaps.append(first - last)
    print(f"[{profile}] back-to-back gaps ms: {[round(g * 1000, 1) for g in gaps]}")
    limit = 0.25 if profile == "close-after-complete" else 0.05
    assert max(gaps) <= limit


async def test_a_burst_of_chunks_reaches_the_pipeline_as_fewer_larger_frames() -> None:
    text = " ".join(["A reply long enough to need many chunks from the server."] * 4)
    # A server on its own thread, unpaced, sends faster than the client reads: bursts.
    with EmulatorThread(EmulatorConfig(speed=0)) as emulator:
        tts = make_tts(emulator)
        async with Harness(tts) as h:
            await h.send(TTSSpeakFrame(text))
            await h.end()
    (context_id,) = h.context_ids()
    frames = [s.frame for s in h.down.seen if is_audio_of(s.frame, context_id)]
    (record,) = [r for r in emulator.tts_log if r.transport == "ws"]
    assert h.audio(context_id) == bytes(record.pcm)  # same bytes, in order
    # what one socket read brought in went downstream as one frame, not one per chunk
    assert len(frames) < record.chunks_sent
