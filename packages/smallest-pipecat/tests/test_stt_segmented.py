"""Pre-recorded Pulse / Pulse Pro per VAD segment: one final each, emotion and gender on
request, an empty transcript reported as such, the server's own errors."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from pipecat.frames.frames import (
    Frame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, audio_frames, speech

from smallest_emulator import Emulator
from smallest_pipecat import SmallestSegmentedSTTService

Settings = SmallestSegmentedSTTService.Settings


def make(emu: Emulator, key: str | None = None, **settings: object) -> SmallestSegmentedSTTService:
    return SmallestSegmentedSTTService(
        api_key=key or f"sk_test;transcript={quote(FIRST)}",
        base_url=emu.base_url,
        settings=Settings(**settings),  # type: ignore[arg-type]
    )


def segment(pcm: bytes) -> list[Frame]:
    return [VADUserStartedSpeakingFrame(), *audio_frames(pcm), VADUserStoppedSpeakingFrame()]


@pytest.mark.parametrize("model", ["pulse", "pulse-pro"])
async def test_each_segment_is_one_final_with_emotion_and_gender(
    default_emulator: Emulator, model: str
) -> None:
    emu = default_emulator
    stt = make(emu, model=model, emotion_detection=True, gender_detection=True)
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(*segment(speech(FIRST)))
        await h.wait_for(lambda: bool(h.down.of(TranscriptionFrame)))
        await h.end()
    (final,) = h.down.of(TranscriptionFrame)
    (record,) = emu.stt_log
    body = record.transcripts[0]
    assert record.transport == "http" and record.params["model"] == model
    assert "encoding" not in record.params  # the WAV header says what the audio is
    assert final.text == FIRST and final.finalized
    assert final.language == Language.EN
    assert final.metadata["gender"] == body["gender"]
    assert final.metadata["emotions"] == body["emotions"]
    assert not h.errors()


async def test_emotion_and_gender_only_when_asked(default_emulator: Emulator) -> None:
    async with Harness(make(default_emulator), in_rate=RATE) as h:
        await h.send(*segment(speech(FIRST)))
        await h.end()
    (final,) = h.down.of(TranscriptionFrame)
    assert final.text == FIRST and not final.metadata


async def test_an_empty_transcript_is_reported_not_pushed(default_emulator: Emulator) -> None:
    stt = make(default_emulator)
    empty: list[float] = []

    @stt.event_handler("on_empty_transcript")
    async def on_empty(_service: SmallestSegmentedSTTService, duration: float) -> None:
        empty.append(duration)

    async with Harness(stt, in_rate=RATE) as h:
        await h.send(*segment(b"\0" * RATE))  # one second of silence
        await h.end()
    assert not h.down.of(TranscriptionFrame)
    assert len(empty) == 1 and empty[0] > 0.9
    assert not h.errors()


async def test_a_refused_request_is_an_error_frame(default_emulator: Emulator) -> None:
    async with Harness(make(default_emulator, key="sk_invalid_key"), in_rate=RATE) as h:
        await h.send(*segment(speech(FIRST)))
        await h.wait_for(lambda: bool(h.errors()))
        await h.end()
    (error,) = h.errors()
    assert error.error.startswith("Smallest STT error:") and "nauthorized" in error.error
    assert not h.down.of(TranscriptionFrame)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="pulse, pulse-pro"):
        SmallestSegmentedSTTService(api_key="k", settings=Settings(model="pulse-2"))
    with pytest.raises(TypeError, match="WAV"):
        SmallestSegmentedSTTService(api_key="k", encoding="linear16")  # type: ignore[call-arg]
