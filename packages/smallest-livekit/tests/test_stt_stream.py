"""Streaming STT: interim/final, VAD events, finalize, close_stream, reconnect, keepalive."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import APIStatusError, stt
from livekit_kit import ALL_PROFILES, key
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import synthesize
from smallest_livekit import STT

EV = stt.SpeechEventType


async def _events(stream: stt.RecognizeStream) -> list[stt.SpeechEvent]:
    return [ev async for ev in stream]


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_interim_final_and_close(emu: Emulator, profile: str) -> None:
    engine = STT(api_key=key(profile, transcript="hello big world"), base_url=emu.base_url)
    stream = engine.stream()
    for frame in frames(utterance("hello big world")):
        stream.push_frame(frame)
    stream.end_input()
    events = await _events(stream)
    await stream.aclose()
    types = [ev.type for ev in events]
    assert EV.INTERIM_TRANSCRIPT in types and EV.START_OF_SPEECH in types
    finals = [ev for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert [f.alternatives[0].text for f in finals] == ["hello big world"]
    assert types.index(EV.START_OF_SPEECH) < types.index(EV.FINAL_TRANSCRIPT)
    assert EV.END_OF_SPEECH in types
    usage = sum(ev.recognition_usage.audio_duration for ev in events if ev.recognition_usage)
    record = emu.stt_log[-1]
    assert usage == pytest.approx(record.audio_bytes / 32000)
    assert record.control_messages[-1] == {"type": "close_stream"}
    words = finals[0].alternatives[0].words or []
    assert [str(w) for w in words] == ["hello", "big", "world"]


async def test_finalize_on_flush_then_close(emu: Emulator) -> None:
    engine = STT(
        api_key=key(transcript="first part|second part"), base_url=emu.base_url, vad_events=False
    )
    stream = engine.stream()
    for frame in frames(utterance("first part", silence_s=0.2)):
        stream.push_frame(frame)
    stream.flush()
    for frame in frames(utterance("second part", silence_s=0.2)):
        stream.push_frame(frame)
    stream.end_input()
    events = await _events(stream)
    await stream.aclose()
    finals = [ev.alternatives[0].text for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert finals == ["first part", "second part"]
    assert {"type": "finalize"} in emu.stt_log[-1].control_messages


async def test_update_options_reconnects_without_losing_audio(emu: Emulator) -> None:
    for text in ("one two", "three four"):  # the recogniser reads the text back from the audio
        emu.state.registry[synthesize(text, 16000).key] = text
    engine = STT(api_key=key(), base_url=emu.base_url)
    stream = engine.stream()
    first = frames(utterance("one two"))
    second = frames(utterance("three four"))
    for frame in first:
        stream.push_frame(frame)
    events: list[stt.SpeechEvent] = []
    async for ev in stream:
        events.append(ev)
        if ev.type is EV.FINAL_TRANSCRIPT:
            break
    engine.update_options(language="hi", keywords=[("four", 2.0)])
    for frame in second:
        stream.push_frame(frame)
    stream.end_input()
    events += await _events(stream)
    await stream.aclose()
    assert stream.connections == 2
    first_rec, second_rec = emu.stt_log[-2:]
    assert second_rec.params["language"] == "hi" and "four:2" in second_rec.params["keywords"]
    sent = sum(len(f.data.tobytes()) for f in first + second)
    assert first_rec.audio_bytes + second_rec.audio_bytes == sent  # nothing lost
    finals = [ev.alternatives[0] for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    texts = [f.text for f in finals if f.text]
    assert texts[:1] == ["one two"] and texts[-1] == "three four"
    # the second connection's times continue the first's timeline
    assert finals[-1].start_time >= first_rec.audio_bytes / 32000 - 0.001


async def test_keepalive_during_silence(emu: Emulator) -> None:
    engine = STT(api_key=key(), base_url=emu.base_url, keepalive_interval_s=0.05)
    stream = engine.stream()
    stream.push_frame(frames(b"\0\0" * 1600)[0])
    for _ in range(100):  # bounded wait for the keepalive to reach the server
        if emu.stt_log and {"type": "keepalive"} in emu.stt_log[-1].control_messages:
            break
        await asyncio.sleep(0.02)
    stream.end_input()
    await _events(stream)
    await stream.aclose()
    assert {"type": "keepalive"} in emu.stt_log[-1].control_messages


async def test_resamples_and_downmixes_input(emu: Emulator) -> None:
    engine = STT(api_key=key(transcript="stereo speech"), base_url=emu.base_url)
    stream = engine.stream()
    for frame in frames(utterance("stereo speech", rate=48000), rate=48000, channels=2):
        stream.push_frame(frame)
    stream.end_input()
    events = await _events(stream)
    await stream.aclose()
    finals = [ev.alternatives[0].text for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert finals == ["stereo speech"]
    seconds = len(utterance("stereo speech", rate=48000)) / 2 / 48000
    assert emu.stt_log[-1].audio_bytes == pytest.approx(seconds * 32000, rel=0.01)


async def test_multi_language_and_diarization(emu: Emulator) -> None:
    engine = STT(
        api_key=key(transcript="hola mundo"),
        base_url=emu.base_url,
        language="multi",
        diarize=True,
    )
    assert engine.capabilities.diarization
    stream = engine.stream()
    for frame in frames(utterance("hola mundo")):
        stream.push_frame(frame)
    stream.end_input()
    events = await _events(stream)
    await stream.aclose()
    final = next(ev.alternatives[0] for ev in events if ev.type is EV.FINAL_TRANSCRIPT)
    assert final.speaker_id == "S0"
    assert str(final.language)
    assert emu.stt_log[-1].params["language"] == "multi"


async def test_bad_key_is_an_auth_error(emu: Emulator) -> None:
    from livekit.agents import APIConnectOptions

    engine = STT(api_key="sk_invalid", base_url=emu.base_url)
    stream = engine.stream(conn_options=APIConnectOptions(max_retry=2, retry_interval=0))
    stream.end_input()
    with pytest.raises(APIStatusError) as info:
        await _events(stream)
    await stream.aclose()
    assert info.value.status_code == 401 and not info.value.retryable
