"""LiveKit session keyterms become Pulse keywords; a change reconnects without losing audio."""

from __future__ import annotations

import pytest
from livekit.agents import stt
from livekit_kit import key, until
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_livekit import STT


def test_keyterms_are_declared() -> None:
    assert STT(api_key="sk_x").capabilities.keyterms


async def test_session_keyterms_reconnect_losslessly_after_the_callers_keywords(
    emu: Emulator,
) -> None:
    engine = STT(api_key=key(), base_url=emu.base_url, keywords=["Smallest:3"])
    stream = engine.stream()
    audio = frames(utterance("hello big world"))
    half = len(audio) // 2
    for frame in audio[:half]:
        stream.push_frame(frame)
    await until(lambda: emu.stt_log and emu.stt_log[0].audio_bytes > 0, "audio")
    engine._update_session_keyterms(["Zorblax", "smallest", "Acme Corp"])  # framework hook
    await until(lambda: stream.connections == 2, "the reconnect")
    for frame in audio[half:]:
        stream.push_frame(frame)
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    first, second = emu.stt_log
    assert first.params["keywords"] == "Smallest:3"
    assert second.params["keywords"] == "Smallest:3,Zorblax:1,Acme Corp:1"
    assert first.audio_bytes + second.audio_bytes == sum(len(f.data.tobytes()) for f in audio)
    usage = [ev for ev in events if ev.type is stt.SpeechEventType.RECOGNITION_USAGE]
    assert usage  # the stream ran to its end over both connections
    engine._update_session_keyterms(["Zorblax", "smallest", "Acme Corp"])  # unchanged: no-op
    assert engine.keywords[-1] == ("Acme Corp", 1.0)
    await engine.aclose()


def test_keyterms_over_the_cap_or_unusable_are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    engine = STT(api_key="sk_x", keywords=[f"own{i}" for i in range(98)])
    engine._update_session_keyterms(["a,b", "alpha", "beta", "gamma"])
    keywords = engine.keywords
    assert len(keywords) == 100 and [t for t, _ in keywords[-2:]] == ["alpha", "beta"]
    assert "left out 2 keyterm(s)" in caplog.text


async def test_session_id_reaches_the_server_as_external_session_id(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="session_id must be 1-128"):
        STT(api_key="sk_x", session_id="has space")
    engine = STT(api_key=key(), base_url=emu.base_url, session_id="call-42.a")
    stream = engine.stream()
    for frame in frames(utterance("hello")):
        stream.push_frame(frame)
    stream.end_input()
    _ = [ev async for ev in stream]
    await stream.aclose()
    assert emu.stt_log[-1].params["external_session_id"] == "call-42.a"
