"""The documented server sends word timestamps for a few voices only (the default among
them). For any voice, every segment ends and back-to-back turns follow each other on one
socket; a voice without timestamps ends a quiet period (the core's ``end_grace_s``) after
its last ``complete``, the default voice ends at once."""

from __future__ import annotations

import time

import pytest
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from livekit_kit import assert_spoke, expected_pcm, frames_pcm, key

from smallest_core import DEFAULT_VOICE
from smallest_core.catalog import WORD_TIMESTAMP_VOICES
from smallest_core.tts_connection import DEFAULT_END_GRACE_S
from smallest_emulator import Emulator
from smallest_livekit import TTS

NO_WORDS_VOICE = "sophia"
TURNS = ["The first turn speaks.", "A second one follows it.", "And a third ends the talk."]
MAX_GAP_S = 0.050
"""Back-to-back turns with the default voice: the most silence the server's pacing allows."""
SLACK_S = 0.150
"""Scheduling slack on a shared machine for the voice that waits out the grace period."""


async def _turns(emu: Emulator, voice: str) -> tuple[list[float], list[float], list[list[str]]]:
    """Speak ``TURNS`` one after the other (each starts when the previous one ended).

    Returns, per turn, how long after the server's last audio chunk the segment ended,
    the silence between one turn's last chunk and the next turn's first (server clock),
    and the timed words LiveKit received.
    """
    engine = TTS(
        api_key=key(trace="turns"), base_url=emu.base_url, voice_id=voice, word_timestamps=True
    )
    errors: list[object] = []
    engine.on("error", errors.append)
    ended_at: list[float] = []
    words: list[list[str]] = []
    try:
        for text in TURNS:
            async with engine.stream() as stream:
                stream.push_text(text)
                stream.end_input()
                events = [ev async for ev in stream]
            ended_at.append(time.monotonic())
            assert_spoke(emu, text)
            assert frames_pcm(events) == expected_pcm(emu)
            words.append(
                [w for ev in events for w in ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, [])]
            )
    finally:
        await engine.aclose()
    assert errors == []
    assert emu.ws_connections.per_route.get("tts") == 1  # every turn on one socket
    records = emu.tts_log[-len(TURNS) :]
    last_chunk = [rec.sends[-1][1] for rec in records]
    first_chunk = [rec.sends[0][1] for rec in records]
    end_delays = [end - last for end, last in zip(ended_at, last_chunk, strict=True)]
    gaps = [nxt - last for nxt, last in zip(first_chunk[1:], last_chunk, strict=False)]
    ms = ", ".join(f"{d * 1000:.1f}" for d in end_delays)
    gap_ms = ", ".join(f"{g * 1000:.1f}" for g in gaps)
    print(f"{voice}: segment ended {ms} ms after its last audio; gaps {gap_ms} ms")
    return end_delays, gaps, words


async def test_the_default_voice_ends_at_once_and_turns_follow_closely(emu: Emulator) -> None:
    assert TTS(api_key="sk_x").options.voice_id == DEFAULT_VOICE
    assert DEFAULT_VOICE in WORD_TIMESTAMP_VOICES
    end_delays, gaps, words = await _turns(emu, DEFAULT_VOICE)
    assert ["".join(w) for w in words] == TURNS  # a timed transcript of every word
    assert max(end_delays) < MAX_GAP_S  # the end is the server's evidence, not a timer
    assert max(gaps) <= MAX_GAP_S


async def test_a_voice_without_timestamps_ends_after_the_grace_period(emu: Emulator) -> None:
    assert NO_WORDS_VOICE not in WORD_TIMESTAMP_VOICES
    end_delays, gaps, words = await _turns(emu, NO_WORDS_VOICE)
    assert words == [[]] * len(TURNS)  # asked for, but the server times no word of this voice
    for delay in end_delays:
        assert DEFAULT_END_GRACE_S <= delay <= DEFAULT_END_GRACE_S + SLACK_S
    for gap in gaps:
        assert gap <= DEFAULT_END_GRACE_S + SLACK_S


@pytest.mark.parametrize("word_timestamps", [False, True])
async def test_the_text_is_the_same_whatever_the_voice(
    emu: Emulator, word_timestamps: bool
) -> None:
    """Without word timestamps LiveKit gets no timed transcript; the segment, its audio and
    the text the server spoke are the same as with them."""
    engine = TTS(
        api_key=key(),
        base_url=emu.base_url,
        voice_id=NO_WORDS_VOICE,
        word_timestamps=word_timestamps,
    )
    assert engine.capabilities.aligned_transcript is word_timestamps
    try:
        async with engine.stream() as stream:
            for token in ["Plain", " text", " still", " arrives."]:
                stream.push_text(token)
            stream.end_input()
            events = [ev async for ev in stream]
    finally:
        await engine.aclose()
    assert_spoke(emu, "Plain text still arrives.")
    assert frames_pcm(events) == expected_pcm(emu)
    assert not any(ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT) for ev in events)
    assert events[-1].is_final


@pytest.mark.parametrize(
    ("voice", "ttfb_ms"),
    [
        # timed words tell the core more is coming: any plausible release delay is waited
        (DEFAULT_VOICE, 500),
        # an untimed voice has only the quiet period (0.3 s, lengthened for the connection
        # after a late frame): releases that start within it are kept
        (NO_WORDS_VOICE, 200),
    ],
)
async def test_a_slow_later_release_is_not_cut_off(emu: Emulator, voice: str, ttfb_ms: int) -> None:
    """The documented server answers each released sentence with its own ``complete``;
    one that takes 0.5 s to start must still be heard."""
    text = ["One sentence here.", " Another one follows.", " And the last one ends it."]
    engine = TTS(api_key=key(ttfb_ms=ttfb_ms), base_url=emu.base_url, voice_id=voice)
    try:
        async with engine.stream() as stream:
            for token in text:
                stream.push_text(token)
            stream.end_input()
            events = [ev async for ev in stream]
    finally:
        await engine.aclose()
    assert_spoke(emu, "".join(text))
    assert frames_pcm(events) == expected_pcm(emu)
