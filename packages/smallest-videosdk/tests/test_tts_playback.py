"""Track rate (resampling), word_spoken pacing, and the HTTP path."""

from __future__ import annotations

import asyncio
import time

import pytest
from videosdk.agents import FlushMarker
from videosdk_kit import PROFILES, bounded, make_tts, tokens, wait_for

from smallest_core import DEFAULT_VOICE, SmallestError
from smallest_emulator import Emulator
from smallest_videosdk._playback import TrackAudio


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
async def test_other_rates_are_resampled_to_the_track_rate(emu: Emulator, rate: int) -> None:
    tts, track = make_tts(emu, sample_rate=rate)
    try:
        await bounded(tts.synthesize(tokens("Resample", " me please.", FlushMarker())))
        record = emu.tts_log[0]
        assert record.sample_rate == rate
        source = bytes(record.pcm)
        expected_samples = round(len(source) // 2 * 24000 / rate)
        assert len(track.audio) // 2 == expected_samples  # right duration at 24 kHz
        reference = TrackAudio(rate)
        expected = reference.convert(source) + reference.finish()
        assert bytes(track.audio) == expected
    finally:
        await tts.aclose()


@pytest.mark.parametrize("profile", PROFILES)
async def test_word_spoken_follows_playback(emu: Emulator, profile: str) -> None:
    # a voice documented to have word timestamps, so every profile sends them
    tts, track = make_tts(emu, profile, word_timestamps=True, voice_id="liam")
    spoken: list[tuple[float, dict[str, str]]] = []
    done = asyncio.Event()
    text = "Hi there, you."

    def on_word(data: dict[str, str]) -> None:
        spoken.append((time.monotonic(), data))
        if data["cumulative_text"] == text:
            done.set()

    tts.on("word_spoken", on_word)
    try:
        await bounded(tts.synthesize(tokens("Hi", " there,", " you.", FlushMarker())))
        record = emu.tts_log[0]
        await bounded(done.wait(), 3.0)
        assert [d["word"] for _, d in spoken] == ["Hi", "there,", "you."]
        started = track.pushes[0][0]
        for (when, _), word in zip(spoken, record.words, strict=True):
            assert abs((when - started) - word.context_start_sample / 24000) < 0.05
    finally:
        await tts.aclose()


async def test_interrupt_cancels_pending_words(emu: Emulator) -> None:
    # a voice with word timestamps: words are pending when the interrupt comes
    tts, _ = make_tts(emu, word_timestamps=True, voice_id=DEFAULT_VOICE)
    spoken: list[dict[str, str]] = []
    tts.on("word_spoken", lambda data: spoken.append(data))
    try:
        await bounded(tts.synthesize("One two three four five six."))
        await bounded(wait_for(lambda: len(spoken) >= 1), 2.0)  # the first word is playing
        await tts.interrupt()
        heard = len(spoken)
        await asyncio.sleep(0.5)  # the words would be due within this time
        assert len(spoken) == heard < 6
    finally:
        await tts.aclose()


@pytest.mark.parametrize("profile", PROFILES)
async def test_http_path_is_byte_exact(emu: Emulator, profile: str) -> None:
    tts, track = make_tts(emu, profile, enable_streaming=False)
    try:
        await bounded(
            tts.synthesize(tokens("First sentence here.", " Second", " one.", FlushMarker()))
        )
        records = [r for r in emu.tts_log if r.transport == "http"]
        assert [r.text.strip() for r in records] == ["First sentence here.", "Second one."]
        assert bytes(track.audio) == b"".join(bytes(r.pcm) for r in records)
        assert emu.ws_connections.opened_total == 0
    finally:
        await tts.aclose()


async def test_http_error_is_reported(emu: Emulator) -> None:
    tts, _ = make_tts(emu, enable_streaming=False, voice_id="nonexistent")
    errors: list[str] = []
    tts.on("error", lambda message: errors.append(message))
    try:
        with pytest.raises(SmallestError):
            await bounded(tts.synthesize("Hello."))
        assert len(errors) == 1
        assert "Invalid Voice ID" in errors[0]
    finally:
        await tts.aclose()


async def test_list_voices(emu: Emulator) -> None:
    tts, _ = make_tts(emu)
    try:
        voices = await tts.list_voices()
        assert {DEFAULT_VOICE, "magnus"} <= {v.id for v in voices}
    finally:
        await tts.aclose()


async def test_words_at_the_same_instant_are_spoken_in_text_order():
    """A segment's last word timed at its very end and the next segment's first word at
    its start fall on one instant: they must still be announced in order."""
    from smallest_videosdk._playback import WordPacer

    spoken: list[str] = []
    pacer = WordPacer(24000, lambda payload: spoken.append(payload["word"]))
    pacer.add_word(0, "Smallest", " Smallest")
    pacer.add_word(2400, "AI.", " AI.")  # at the very end of the first 2,400 samples
    pacer.audio_pushed(2400)
    pacer.add_word(2400, "Every", " Every")  # the next segment's first word
    pacer.audio_pushed(2400)
    pacer.finish()
    for _ in range(50):
        if pacer.done:
            break
        await asyncio.sleep(0.01)
    assert spoken == ["Smallest", "AI.", "Every"]
