"""Pulse streaming in a pipeline: interims, finals, finalize, close_stream, reconnects."""

from __future__ import annotations

import time
from urllib.parse import quote

from pipecat.frames.frames import (
    InterimTranscriptionFrame,
    STTUpdateSettingsFrame,
    TextFrame,
    TranscriptionFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.transcriptions.language import Language
from pipecat_pipeline import Harness
from pipecat_stt_kit import FIRST, RATE, SECOND, audio_frames, speech

from smallest_emulator import Emulator
from smallest_pipecat import SmallestSTTService


def make_stt(emu: Emulator, **settings: object) -> SmallestSTTService:
    key = f"sk_test;transcript={quote(FIRST)}|{quote(SECOND)}"
    return SmallestSTTService(
        api_key=key,
        base_url=emu.base_url,
        settings=SmallestSTTService.Settings(language=Language.EN, **settings),  # type: ignore[arg-type]
    )


async def test_final_is_delivered_at_end_of_stream(emulator: Emulator, profile: str) -> None:
    stt = make_stt(emulator)
    pcm = speech(FIRST)
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(*audio_frames(pcm))
        await h.end()
    finals = h.down.of(TranscriptionFrame)
    assert [f.text for f in finals] == [FIRST]
    assert finals[0].language == Language.EN
    assert finals[0].result.words and finals[0].result.words[0].text == "hello"
    assert h.down.of(InterimTranscriptionFrame)
    (record,) = emulator.stt_log
    assert record.audio_bytes == len(pcm)  # every byte, including the last partial frame
    assert {"type": "close_stream"} in record.control_messages


async def test_finalize_on_end_of_turn(emulator: Emulator, profile: str) -> None:
    stt = make_stt(emulator)
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(VADUserStartedSpeakingFrame(), *audio_frames(speech(FIRST)))
        sent = time.monotonic()
        await h.send(VADUserStoppedSpeakingFrame())
        await h.wait_for(lambda: bool(h.down.of(TranscriptionFrame)))
        arrived = next(s.at for s in h.down.seen if isinstance(s.frame, TranscriptionFrame))
        await h.end()
    (final,) = h.down.of(TranscriptionFrame)
    print(f"[{profile}] finalize-to-final ms: {(arrived - sent) * 1000:.1f}")
    assert final.text == FIRST
    assert final.finalized
    assert arrived - sent < 0.5


async def test_settings_change_waits_for_the_utterance(default_emulator: Emulator) -> None:
    stt = make_stt(default_emulator)
    first, second = audio_frames(speech(FIRST)), audio_frames(speech(SECOND))
    half = len(first) // 2
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(VADUserStartedSpeakingFrame(), *first[:half])
        delta = SmallestSTTService.Settings(diarize=True)
        marker = TextFrame("settings applied")  # queued behind the update, so it orders it
        await h.send(STTUpdateSettingsFrame(delta=delta), marker, *first[half:])
        await h.wait_for(lambda: marker in h.down.of(TextFrame))
        assert stt.connections_opened == 1  # deferred: the user is still speaking
        await h.send(VADUserStoppedSpeakingFrame(), UserStoppedSpeakingFrame())
        await h.wait_for(lambda: stt.connections_opened == 2)
        await h.send(VADUserStartedSpeakingFrame(), *second, VADUserStoppedSpeakingFrame())
        await h.end()
    assert [f.text for f in h.down.of(TranscriptionFrame)] == [FIRST, FIRST]  # script restarts
    old, new = default_emulator.stt_log
    assert old.audio_bytes == sum(len(f.audio) for f in first)
    assert old.params.get("diarize") == "false" and new.params.get("diarize") == "true"
    assert new.audio_bytes == sum(len(f.audio) for f in second)


async def test_server_error_is_surfaced(default_emulator: Emulator) -> None:
    stt = SmallestSTTService(
        api_key="sk_test;error_after_chunks=3;error_message=Transcriber%20crashed",
        base_url=default_emulator.base_url,
        close_timeout_s=0.5,
    )
    async with Harness(stt, in_rate=RATE) as h:
        await h.send(*audio_frames(speech(FIRST)))
        await h.wait_for(lambda: bool(h.errors()))
        await h.end()
    assert any("Transcriber crashed" in e.error for e in h.errors())


async def test_server_vad_only_when_asked(default_emulator: Emulator) -> None:
    for enabled in (False, True):
        stt = make_stt(default_emulator, vad_events=enabled, eou_timeout_ms=200)
        silence = b"\0" * (RATE * 2 // 2)
        async with Harness(stt, in_rate=RATE) as h:
            await h.send(*audio_frames(speech(FIRST) + silence))
            await h.end()
        started = h.down.of(VADUserStartedSpeakingFrame)
        stopped = h.down.of(VADUserStoppedSpeakingFrame)
        assert (len(started), len(stopped)) == ((1, 1) if enabled else (0, 0))
