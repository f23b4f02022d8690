"""Lightning v3.2 over its own HTTP route, with per-utterance affect an agent changes
between utterances (``update_options``) or per call (``synthesize(affect=...)``); the
request-level options every HTTP synthesis carries."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from livekit.agents import tts, utils
from livekit.agents.tokenize import basic
from livekit_hostile import TTS_HTTP, serve
from livekit_kit import collect, frames_pcm, until

from smallest_core import Affect
from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import releases_pcm
from smallest_livekit import TTS

V32 = "lightning-v3.2"
VOICE = "v32voice"


def _made(emu: Emulator, index: int = -1) -> bytes:
    """What the engine made for the words of that request (before any volume change)."""
    rec = emu.tts_log[index]
    return releases_pcm(rec.releases, rec.sample_rate, voice_id=rec.voice_id)


async def test_affect_is_sent_and_the_audio_is_exact(emu: Emulator) -> None:
    engine = TTS(base_url=emu.base_url, model=V32, voice_id=VOICE, affect=Affect(emotion="happy"))
    try:
        happy = frames_pcm(await collect(engine.synthesize("I passed the exam!")))
        assert emu.tts_log[-1].affect == {"emotion": "happy"}
        assert happy == _made(emu)
        quiet = frames_pcm(
            await collect(
                engine.synthesize(
                    "Keep it down.", affect=Affect(volume="low", instruction="whisper")
                )
            )
        )
        assert emu.tts_log[-1].affect == {"volume": "low", "instruction": "whisper"}
        assert quiet == bytes(emu.tts_log[-1].pcm) and quiet != _made(emu)
        await collect(engine.synthesize("Back to normal."))
        assert emu.tts_log[-1].affect == {"emotion": "happy"}  # the per-call affect was one-off
    finally:
        await engine.aclose()
    assert any("/waves/v1/lightning-v3.2/get_speech" in line for line in emu.requests)


async def test_an_agent_changes_affect_mid_reply_without_reconnecting(emu: Emulator) -> None:
    """AgentSession wraps a non-streaming TTS in StreamAdapter: one request per sentence,
    each with the affect current when its sentence is synthesized."""
    engine = TTS(base_url=emu.base_url, model=V32, voice_id=VOICE, affect=Affect(emotion="sad"))
    assert not engine.capabilities.streaming
    adapter = tts.StreamAdapter(tts=engine, sentence_tokenizer=basic.SentenceTokenizer())
    try:
        async with adapter.stream() as stream, asyncio.timeout(10):
            stream.push_text("I lost my keys this morning. But then")
            await until(lambda: emu.tts_log, "the first sentence's request")
            engine.update_options(affect=Affect(emotion="happy", pitch="high"))
            stream.push_text(" I found them in my coat!")
            stream.end_input()
            events = await collect(stream)
    finally:
        await adapter.aclose()
        await engine.aclose()
    first, second = emu.tts_log[-2:]
    assert first.affect == {"emotion": "sad"}
    assert second.affect == {"emotion": "happy", "pitch": "high"}
    assert _without_markers(events) == _made(emu, -2) + _made(emu, -1)


def _without_markers(events: list[tts.SynthesizedAudio]) -> bytes:
    """The adapter forwards each sentence's 10 ms end marker as audio: leave those out."""
    out = b""
    for ev in events:
        data = ev.frame.data.tobytes()
        if ev.frame.samples_per_channel == ev.frame.sample_rate // 100 and not any(data):
            continue
        out += data
    return out


def test_v32_needs_its_own_voice_and_has_no_stream() -> None:
    with pytest.raises(ValueError, match="voice_id"):
        TTS(base_url="http://127.0.0.1:9", model=V32)
    with pytest.raises(ValueError, match="not interchangeable"):
        TTS(base_url="http://127.0.0.1:9", model=V32, voice_id="magnus")
    with pytest.raises(ValueError, match=r"lightning_v3\.2"):
        TTS(base_url="http://127.0.0.1:9", affect=Affect(emotion="happy"))
    with pytest.raises(ValueError, match="neutral, sad, happy, angry"):
        Affect(emotion="ecstatic")
    engine = TTS(base_url="http://127.0.0.1:9", model=V32, voice_id=VOICE)
    with pytest.raises(ValueError, match="StreamAdapter"):
        engine.stream()


async def test_switching_models_switches_the_transport(emu: Emulator) -> None:
    engine = TTS(base_url=emu.base_url)
    try:
        assert engine.capabilities.streaming
        engine.update_options(model=V32, voice_id=VOICE, affect=Affect(prosody="expressive"))
        assert not engine.capabilities.streaming
        await collect(engine.synthesize("Hello."))
        assert emu.tts_log[-1].affect == {"prosody": "expressive"}
        engine.update_options(affect=Affect())  # clears it
        await collect(engine.synthesize("Plain."))
        assert emu.tts_log[-1].affect == {}
        engine.update_options(affect=Affect(emotion="angry"))
        engine.update_options(model="lightning_v3.1", voice_id="avery")  # affect stays behind
        assert engine.capabilities.streaming and engine.options.affect is None
    finally:
        await engine.aclose()


async def test_expire_content_is_asked_for_on_every_route(emu: Emulator) -> None:
    seen: list[str | None] = []
    async with utils.http_context.open():
        engine = TTS(base_url=emu.base_url, model=V32, voice_id=VOICE, expire_content=True)
        try:
            seen.append(engine._conn.headers().get("x-expire-content"))
            await collect(engine.synthesize("Hello."))
        finally:
            await engine.aclose()
    assert seen == ["true"]
    assert TTS(base_url=emu.base_url)._conn.headers().get("x-expire-content") is None


async def test_session_id_is_sent_with_each_request() -> None:
    bodies: list[dict[str, object]] = []

    async def tts_http(request: web.Request) -> web.StreamResponse:
        bodies.append(await request.json())
        return web.Response(body=b"\x01\x00" * 240, content_type="audio/pcm")

    with pytest.raises(ValueError, match="session_id must be 1-128"):
        TTS(base_url="http://127.0.0.1:9", session_id="no spaces allowed")
    async with serve({("POST", TTS_HTTP): tts_http}) as url, utils.http_context.open():
        engine = TTS(base_url=url, session_id="room-7")
        try:
            await collect(engine.synthesize("Hello."))
            engine.update_options(session_id="room-8")
            await collect(engine.synthesize("Hello again."))
        finally:
            await engine.aclose()
    assert [b["session_id"] for b in bodies] == ["room-7", "room-8"]
