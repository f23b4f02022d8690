"""The documented service (the emulator's default profile): frames carry no ``context_id``,
a ``complete`` follows every released segment with no terminal marker, and word timestamps
come only for some voices. The default voice is one of them; other voices still work."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time

import pytest
from videosdk.agents import FlushMarker
from videosdk_kit import FakeTrack, bounded, make_tts, tokens, wait_for

from smallest_core import DEFAULT_PRO_VOICE, DEFAULT_VOICE, catalog
from smallest_core.tts_connection import DEFAULT_END_GRACE_S
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAITTS

NO_TIMESTAMPS = "magnus"
"""A Standard voice the service sends no word timestamps for."""

FIRST, SECOND = "Sure.", "Let me check that for you."


def _play_end(pushes: list[tuple[float, int]], rate: int = 24000) -> float:
    """When a real-time player that starts at the first push has played everything."""
    end = pushes[0][0]
    for when, size in pushes:
        end = max(end, when) + size / 2 / rate
    return end


def test_the_voices_named_here_are_what_the_tests_assume() -> None:
    assert DEFAULT_VOICE in catalog.WORD_TIMESTAMP_VOICES
    assert DEFAULT_PRO_VOICE in catalog.WORD_TIMESTAMP_VOICES
    assert NO_TIMESTAMPS in catalog.STANDARD_VOICES
    assert NO_TIMESTAMPS not in catalog.WORD_TIMESTAMP_VOICES


def test_defaults_are_the_cores() -> None:
    tts = SmallestAITTS(api_key="sk_x")
    assert tts.voice_id == DEFAULT_VOICE
    assert tts.model == catalog.LIGHTNING_V3_1
    assert inspect.signature(SmallestAITTS).parameters["model"].default == catalog.LIGHTNING_V3_1
    for pro in ("lightning_v3.1_pro", "lightning-v3.1-pro"):
        tts = SmallestAITTS(api_key="sk_x", model=pro)
        assert (tts.voice_id, tts.model) == (DEFAULT_PRO_VOICE, catalog.LIGHTNING_V3_1_PRO)
    assert SmallestAITTS(api_key="sk_x", model="lightning-v3.1").model == catalog.LIGHTNING_V3_1
    assert SmallestAITTS(api_key="sk_x", voice_id=NO_TIMESTAMPS).voice_id == NO_TIMESTAMPS


async def test_the_default_voice_is_requested_and_timed(emu: Emulator) -> None:
    tts, track = make_tts(emu, word_timestamps=True)
    words: list[str] = []
    tts.on("word_spoken", lambda data: words.append(data["word"]))
    try:
        await bounded(tts.synthesize(tokens("Hello", " there,", " friend.", FlushMarker())))
        record = emu.tts_log[0]
        assert record.voice_id == DEFAULT_VOICE
        assert [w.word for w in record.words] == ["Hello", "there,", "friend."]
        assert bytes(track.audio) == bytes(record.pcm)
        await bounded(wait_for(lambda: len(words) == 3), 3.0)
        assert words == ["Hello", "there,", "friend."]
    finally:
        await tts.aclose()


TWO_SENTENCES = ("One sentence,", " and then", " another.", " A second", " one.", FlushMarker())


async def _end_delay(tts: SmallestAITTS, track: FakeTrack) -> float:
    """Seconds from the turn's last audio reaching the track to ``synthesize()`` returning."""
    await bounded(tts.synthesize(tokens(*TWO_SENTENCES, delay=0.02)))
    returned = time.monotonic()
    return returned - track.pushes[-1][0]


async def test_the_default_voice_ends_each_context_at_its_complete(emu: Emulator) -> None:
    tts, track = make_tts(emu)
    try:
        delay = await _end_delay(tts, track)
        print(
            f"[measure] voice={DEFAULT_VOICE} end_of_context_after_last_audio_ms={delay * 1000:.1f}"
        )
        assert delay < 0.05
        record = emu.tts_log[0]
        assert record.text == "One sentence, and then another. A second one."
        assert record.completes_sent == 2  # one per released sentence, none marked last
        assert bytes(track.audio) == bytes(record.pcm)
    finally:
        await tts.aclose()


async def test_a_voice_without_word_timestamps_still_ends_its_context(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smallest_videosdk")
    tts, track = make_tts(emu, voice_id=NO_TIMESTAMPS, word_timestamps=True)
    words: list[object] = []
    tts.on("word_spoken", words.append)
    errors: list[str] = []
    tts.on("error", errors.append)
    try:
        delay = await _end_delay(tts, track)
        print(
            f"[measure] voice={NO_TIMESTAMPS} end_of_context_after_last_audio_ms={delay * 1000:.1f}"
        )
        record = emu.tts_log[0]
        assert record.voice_id == NO_TIMESTAMPS and record.completes_sent == 2
        assert bytes(track.audio) == bytes(record.pcm)
        assert DEFAULT_END_GRACE_S * 0.8 <= delay < DEFAULT_END_GRACE_S + 0.5
        await asyncio.sleep(0.3)
        assert words == [] and errors == []  # no word_spoken: the server timed no word
        notes = [r.getMessage() for r in caplog.records if "word timestamps" in r.getMessage()]
        assert len(notes) == 1 and NO_TIMESTAMPS in notes[0]
        await bounded(tts.synthesize("And a second turn."))
        notes = [r.getMessage() for r in caplog.records if "word timestamps" in r.getMessage()]
        assert len(notes) == 1  # said once, not per turn
    finally:
        await tts.aclose()


@pytest.mark.parametrize("timeout_s", [0.1, 0.2])
async def test_a_timeout_shorter_than_the_quiet_period_is_not_a_failure(
    emu: Emulator, timeout_s: float
) -> None:
    """The server answered everything (its ``complete`` came): waiting for the end of the
    context is not waiting for audio it owes."""
    tts, track = make_tts(emu, voice_id=NO_TIMESTAMPS, timeout=timeout_s)
    errors: list[str] = []
    tts.on("error", errors.append)
    try:
        await bounded(tts.synthesize(tokens("Hello", " there.", FlushMarker(), " Bye.")))
        assert errors == []
        assert [r.text for r in emu.tts_log] == ["Hello there.", " Bye."]
        assert bytes(track.audio) == b"".join(bytes(r.pcm) for r in emu.tts_log)
    finally:
        await tts.aclose()


@pytest.mark.parametrize("voice", [DEFAULT_VOICE, NO_TIMESTAMPS])
async def test_back_to_back_utterances(emu: Emulator, voice: str) -> None:
    """Two ``synthesize()`` calls, the second when the first returns (the pipeline's way),
    then two segments of one turn; the server at twice real time."""
    emu.config.speed = 2.0
    tts, track = make_tts(emu, voice_id=voice)
    try:
        await tts.prewarm()
        await bounded(tts.synthesize(FIRST))
        first = list(track.pushes)
        await bounded(tts.synthesize(SECOND))
        second = track.pushes[len(first) :]
        turns_gap = max(0.0, second[0][0] - _play_end(first))

        track.pushes.clear()
        await bounded(tts.synthesize(tokens(FIRST, FlushMarker(), " " + SECOND, FlushMarker())))
        segment_gap = track.dead_air_s()
        print(
            f"[measure] voice={voice} back_to_back_turns_gap_ms={turns_gap * 1000:.1f} "
            f"back_to_back_segments_gap_ms={segment_gap * 1000:.1f}"
        )
        assert [r.text for r in emu.tts_log] == [FIRST, SECOND, FIRST, " " + SECOND]
        assert bytes(track.audio) == b"".join(bytes(r.pcm) for r in emu.tts_log)
        assert emu.ws_connections.opened_total == 1
        if voice == DEFAULT_VOICE:
            assert turns_gap <= 0.05
            assert segment_gap <= 0.05
        else:  # each context ends a quiet period after its last audio, before the next starts
            assert turns_gap <= DEFAULT_END_GRACE_S + 0.1
            assert segment_gap <= DEFAULT_END_GRACE_S + 0.1
    finally:
        await tts.aclose()
