"""The core's STT rules on VideoSDK: an unanswered ``flush()`` (finalize) or
``aclose()`` (close_stream) is one ``error`` event each, and closing stays bounded."""

from __future__ import annotations

from videosdk.agents import SpeechEventType, audio_format
from videosdk_kit import bounded, make_stt, wait_for
from videosdk_stt_kit import Collector, feed, speech

from smallest_emulator import Emulator


async def test_an_unanswered_close_stream_is_an_error(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, overrides={"never_answer": "true"}, close_timeout_s=0.3)
    got = Collector(stt)
    await feed(stt, speech(0.3, 16000), 16000)
    await bounded(stt.aclose(), 3.0)
    assert len(got.errors) == 1
    assert "no last transcript within 0.3 s of close_stream" in got.errors[0]
    assert got.finals() == []


async def test_an_unanswered_flush_is_an_error_and_the_stream_goes_on(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(
        emu, overrides={"never_answer": "true"}, finalize_timeout_s=0.3, close_timeout_s=0.3
    )
    got = Collector(stt)
    await feed(stt, speech(0.3, 16000), 16000)
    await stt.flush()
    await wait_for(lambda: bool(got.errors))
    assert "no final transcript within 0.3 s of finalize" in got.errors[0]
    await feed(stt, speech(0.2, 16000), 16000)  # still streaming on the same socket
    await bounded(stt.aclose(), 3.0)
    assert len(got.errors) == 2 and "close_stream" in got.errors[1]
    assert stt._state.connections == 1


async def test_an_answered_flush_reports_nothing(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, overrides={"transcript": "hello there"}, finalize_timeout_s=0.3)
    got = Collector(stt)
    await feed(stt, speech(0.6, 16000), 16000)
    await stt.flush()
    await got.until_finals(1)
    await bounded(stt.aclose())
    assert got.errors == []
    assert [f.data.text for f in got.finals()] == ["hello there"]


async def test_with_vad_events_a_flush_final_still_ends_speech(emu: Emulator) -> None:
    """The core's rule: a final answering ``finalize`` ends speech, VAD events or not."""
    audio_format.publish(16000, 1)
    stt = make_stt(emu, overrides={"transcript": "hello there"}, vad_events=True)
    got = Collector(stt)
    await feed(stt, speech(0.6, 16000), 16000)  # no trailing silence: no speech_ended yet
    await stt.flush()
    await got.until_finals(1)
    kinds = got.kinds()
    await bounded(stt.aclose())
    assert kinds[0] is SpeechEventType.START
    assert kinds[kinds.index(SpeechEventType.FINAL) + 1 :] == [SpeechEventType.END]
