"""livekit-plugins-smallestai 1.8.9 (with livekit-agents 1.8.9), unmodified, on the emulator.

Pointed at it with the plugin's documented ``base_url`` (``…/waves/v1``) and ``ws_url``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from livekit import rtc
from livekit.agents import (
    APIConnectionError,
    APIConnectOptions,
    APIError,
    APIStatusError,
    stt,
    tts,
    utils,
)
from livekit.plugins import smallestai
from vendor_kit import (
    BAD_KEY,
    KEY,
    RATE,
    STT_RATE,
    TEXT,
    VOICE,
    g711_matches,
    silence,
    speech,
)

from smallest_emulator import Emulator

NO_RETRY = APIConnectOptions(max_retry=0, timeout=5)
SAID = "book a table for two"
TIMED = "lk.timed_transcripts"


@pytest.fixture
async def lk(emu: Emulator) -> AsyncIterator[Emulator]:
    """The emulator inside LiveKit's HTTP context (what an agent job provides)."""
    async with utils.http_context.open():
        yield emu


def _tts(server: Emulator, key: str = KEY, **opts: Any) -> smallestai.TTS:
    return smallestai.TTS(
        api_key=key,
        model="lightning_v3.1",
        voice_id=VOICE,
        sample_rate=RATE,
        base_url=f"{server.base_url}/waves/v1",
        ws_url=f"{server.ws_url}/waves/v1/tts/live",
        **opts,
    )


def _stt(server: Emulator, key: str) -> smallestai.STT:
    return smallestai.STT(api_key=key, base_url=f"{server.base_url}/waves/v1", sample_rate=STT_RATE)


def _server_audio(events: list[tts.SynthesizedAudio]) -> bytes:
    """The frames' PCM without the 10 ms silent frame LiveKit appends to close a segment."""
    audio = b""
    for ev in events:
        frame = ev.frame
        data = frame.data.tobytes()
        marker = frame.samples_per_channel == frame.sample_rate // 100 and not any(data)
        if not (ev.is_final and marker):
            audio += data
    return audio


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3"])
async def test_synthesize_http(lk: Emulator, fmt: str) -> None:
    """``TTS.synthesize`` over ``POST /waves/v1/tts``: decoded frames are the record's PCM."""
    engine = _tts(lk, output_format=fmt)
    try:
        events = [ev async for ev in engine.synthesize(TEXT, conn_options=NO_RETRY)]
    finally:
        await engine.aclose()
    rec = lk.tts_log[-1]
    assert (rec.transport, rec.text, rec.output_format) == ("http", TEXT, fmt)
    assert all(ev.frame.sample_rate == RATE for ev in events)
    audio = _server_audio(events)
    if fmt == "mp3":
        assert len(rec.pcm) <= len(audio) <= len(rec.pcm) + 4 * 1152 * 2
    else:
        assert audio == bytes(rec.pcm)


@pytest.mark.parametrize("fmt", ["ulaw", "alaw"])
async def test_synthesize_http_g711(lk: Emulator, fmt: str) -> None:
    """µ-law / A-law over HTTP: the emulator's raw answer is checked.

    The plugin asks for these formats but labels the body ``audio/ulaw``/``audio/alaw``,
    which LiveKit's decoder cannot read (a plugin defect: it logs "Error decoding audio"
    and yields noise, or raises "no audio frames were pushed"), so its frames prove
    nothing: after the plugin's request is accepted, the same body is fetched with aiohttp.
    """
    engine = _tts(lk, output_format=fmt)
    try:
        with contextlib.suppress(APIError):  # "no audio frames were pushed": its decoder
            async for _ in engine.synthesize(TEXT, conn_options=NO_RETRY):
                pass
    finally:
        await engine.aclose()
    rec = lk.tts_log[-1]
    assert (rec.transport, rec.text, rec.output_format) == ("http", TEXT, fmt)
    body = {"text": TEXT, "voice_id": VOICE, "sample_rate": RATE, "output_format": fmt}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{lk.base_url}/waves/v1/tts", json=body, headers={"Authorization": f"Bearer {KEY}"}
        ) as resp,
    ):
        assert resp.status == 200
        data = await resp.read()
    assert g711_matches(data, bytes(lk.tts_log[-1].pcm), fmt)


async def test_stream_audio_and_word_timestamps(lk: Emulator) -> None:
    """``TTS.stream`` over the WS with continuations: all audio, then the words as timed."""
    engine = _tts(lk, word_timestamps=True)
    try:
        async with engine.stream(conn_options=NO_RETRY) as speech_stream:
            for token in TEXT.split(" "):
                speech_stream.push_text(token + " ")
            speech_stream.end_input()
            events = [ev async for ev in speech_stream]
    finally:
        await engine.aclose()
    rec = lk.tts_log[-1]
    assert rec.transport == "ws" and rec.text.split() == TEXT.split()
    assert _server_audio(events) == bytes(rec.pcm)
    words = [w for ev in events for w in ev.frame.userdata.get(TIMED, []) or []]
    assert [str(w).strip() for w in words] == TEXT.split()
    assert [w.start_time for w in words] == pytest.approx([w.start for w in rec.words], abs=0.01)


async def _speak(engine: smallestai.TTS, text: str) -> list[tts.SynthesizedAudio]:
    async with engine.stream(conn_options=NO_RETRY) as speech_stream:
        speech_stream.push_text(text)
        speech_stream.end_input()
        return [ev async for ev in speech_stream]


async def test_stream_bad_voice_raises_connection_error(lk: Emulator) -> None:
    """An unknown voice on the socket: the plugin raises ``APIConnectionError``.

    The emulator answers with the documented error frame (``status: error``, ``message``
    "Invalid Voice ID"); the plugin maps every server error frame to a retryable
    ``APIConnectionError`` (its own choice, which is why it retries invalid voices).
    """
    engine = _tts(lk)
    engine.update_options(voice_id="no_such_voice")
    try:
        with pytest.raises(APIConnectionError):
            await _speak(engine, TEXT)
    finally:
        await engine.aclose()
    assert lk.tts_log == []  # rejected before any synthesis


async def test_synthesize_bad_key_is_401(lk: Emulator) -> None:
    """A rejected key over HTTP: ``APIStatusError`` with status 401."""
    engine = _tts(lk, key=BAD_KEY)
    try:
        with pytest.raises(APIStatusError) as err:
            async for _ in engine.synthesize(TEXT, conn_options=NO_RETRY):
                pass
    finally:
        await engine.aclose()
    assert err.value.status_code == 401


def _frames(pcm: bytes) -> list[rtc.AudioFrame]:
    step = STT_RATE // 50 * 2  # 20 ms
    return [
        rtc.AudioFrame(pcm[i : i + step], STT_RATE, 1, len(pcm[i : i + step]) // 2)
        for i in range(0, len(pcm), step)
    ]


async def test_stt_stream_scripted_transcript(lk: Emulator) -> None:
    """``STT.stream`` on ``/waves/v1/stt/live``: the final is the scripted utterance."""
    listener = _stt(lk, f"{KEY};transcript={SAID}")
    stream = listener.stream()
    try:
        for frame in _frames(speech(1.0) + silence(1.0)):
            stream.push_frame(frame)
        stream.end_input()
        events = [ev async for ev in stream]
    finally:
        await stream.aclose()
        await listener.aclose()
    finals = [
        ev.alternatives[0].text
        for ev in events
        if ev.type is stt.SpeechEventType.FINAL_TRANSCRIPT and ev.alternatives[0].text
    ]
    assert finals == [SAID]
    kinds = [ev.type for ev in events]
    assert stt.SpeechEventType.START_OF_SPEECH in kinds
    assert stt.SpeechEventType.END_OF_SPEECH in kinds


async def test_stt_recognize_scripted_transcript(lk: Emulator) -> None:
    """``STT.recognize`` (batch, ``POST /waves/v1/stt/``): the scripted utterance."""
    listener = _stt(lk, f"{KEY};transcript={SAID}")
    try:
        event = await listener.recognize(_frames(speech(1.0) + silence(0.5)))
    finally:
        await listener.aclose()
    assert event.type is stt.SpeechEventType.FINAL_TRANSCRIPT
    assert event.alternatives[0].text == SAID


async def test_stt_bad_key_is_401(lk: Emulator) -> None:
    """A rejected key on the batch route: ``APIStatusError`` 401."""
    listener = _stt(lk, BAD_KEY)
    try:
        with pytest.raises(APIStatusError) as err:
            await listener.recognize(_frames(speech(0.5)), conn_options=NO_RETRY)
    finally:
        await listener.aclose()
    assert err.value.status_code == 401
