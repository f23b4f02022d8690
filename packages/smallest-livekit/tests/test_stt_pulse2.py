"""Pulse 2: emotion and gender of each final in ``SpeechData.metadata`` (and the stream's
speaker ``context``), and its built-in end of turn as ``END_OF_SPEECH``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from livekit import rtc
from livekit.agents import stt, utils
from livekit_hostile import STT_WS, serve
from livekit_kit import key
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_livekit import STT

EV = stt.SpeechEventType


async def _run(stream: stt.RecognizeStream, audio: list[rtc.AudioFrame]) -> list[stt.SpeechEvent]:
    for frame in audio:
        stream.push_frame(frame)
    stream.end_input()
    async with asyncio.timeout(20):
        events = [ev async for ev in stream]
    await stream.aclose()
    return events


async def test_finals_carry_the_servers_emotion_and_gender(emu: Emulator) -> None:
    engine = STT(api_key=key(transcript="good morning"), base_url=emu.base_url, model="pulse-2")
    assert engine.model == "pulse-2"
    stream = engine.stream()
    events = await _run(stream, frames(utterance("good morning")))
    record = emu.stt_log[-1]
    assert record.params["model"] == "pulse-2"
    sent = [f for f in record.transcripts if f.get("is_final") and f.get("transcript")]
    finals = [ev.alternatives[0] for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert [f.text for f in finals] == ["good morning"]
    meta = finals[0].metadata or {}
    assert meta["emotions"] == sent[0]["emotions"] and meta["gender"] == sent[0]["gender"]
    assert meta["emotion"] == max(sent[0]["emotions"], key=sent[0]["emotions"].get)
    assert stream.context is not None and stream.context.model_dump()["gender"] == meta["gender"]


async def test_pulse_finals_have_no_metadata(emu: Emulator) -> None:
    engine = STT(api_key=key(transcript="good morning"), base_url=emu.base_url)
    events = await _run(engine.stream(), frames(utterance("good morning")))
    finals = [ev.alternatives[0] for ev in events if ev.type is EV.FINAL_TRANSCRIPT]
    assert finals and all(f.metadata is None for f in finals)


async def _scripted(
    answer: list[dict[str, Any]], last: dict[str, Any], **options: Any
) -> tuple[list[stt.SpeechEvent], list[dict[str, str]]]:
    """Stream to a scripted Pulse 2 server: ``answer`` after the first audio, ``last`` at
    ``close_stream``; the events and the query strings it saw."""
    queries: list[dict[str, str]] = []

    async def pulse2(request: web.Request) -> web.StreamResponse:
        queries.append(dict(request.query))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        answered = False
        async for msg in ws:
            if msg.type is WSMsgType.BINARY and not answered:
                answered = True
                for frame in answer:
                    await ws.send_json({"type": "transcription", **frame})
            elif msg.type is WSMsgType.TEXT and json.loads(msg.data).get("type") == "close_stream":
                await ws.send_json({"type": "transcription", **last, "is_last": True})
                break
        await ws.close()
        return ws

    async with serve({("GET", STT_WS): pulse2}) as url, utils.http_context.open():
        engine = STT(base_url=url, model="pulse-2", **options)
        events = await _run(engine.stream(), frames(b"\x10\x00" * 4800))
    return [ev for ev in events if ev.type is not EV.RECOGNITION_USAGE], queries


async def test_its_end_of_turn_is_end_of_speech() -> None:
    """A final with ``speech_final`` ends the turn even when no VAD event follows it."""
    first = {
        "transcript": "hello there",
        "is_final": True,
        "speech_final": True,
        "emotions": {"happy": 0.7, "neutral": 0.3},
        "gender": "female",
    }
    answer = [first, {"transcript": "and", "is_final": False}]
    last = {"transcript": "and then", "is_final": True}
    events, queries = await _scripted(answer, last, vad_events=True)
    assert [ev.type for ev in events] == [
        EV.START_OF_SPEECH,
        EV.FINAL_TRANSCRIPT,
        EV.END_OF_SPEECH,  # Pulse 2's end of turn, not the end of input
        EV.START_OF_SPEECH,
        EV.INTERIM_TRANSCRIPT,
        EV.FINAL_TRANSCRIPT,
        EV.END_OF_SPEECH,
    ]
    assert queries[0]["model"] == "pulse-2"
    final = next(ev for ev in events if ev.type is EV.FINAL_TRANSCRIPT).alternatives[0]
    assert final.metadata == {
        "emotion": "happy",
        "emotions": {"happy": 0.7, "neutral": 0.3},
        "gender": "female",
    }


async def test_a_final_inside_the_turn_does_not_end_speech() -> None:
    """Pulse 2 without VAD events: only its end of turn (or the last final) ends speech."""
    answer = [
        {"transcript": "I would like", "is_final": True, "speech_final": False},
        {"transcript": "a refund please", "is_final": True, "speech_final": True},
    ]
    events, _ = await _scripted(answer, {"transcript": "", "is_final": True}, vad_events=False)
    assert [ev.type for ev in events] == [
        EV.START_OF_SPEECH,
        EV.FINAL_TRANSCRIPT,
        EV.FINAL_TRANSCRIPT,
        EV.END_OF_SPEECH,
    ]


async def test_recognize_with_pulse2_carries_the_same_extras(emu: Emulator) -> None:
    engine = STT(api_key=key(transcript="thank you"), base_url=emu.base_url, model="pulse-2")
    result = await engine.recognize(frames(utterance("thank you")))
    await engine.aclose()
    data = result.alternatives[0]
    assert data.text == "thank you"
    meta = data.metadata or {}
    assert isinstance(meta.get("gender"), str) and isinstance(meta.get("emotions"), dict)
    assert emu.stt_log[-1].params["model"] == "pulse"  # Pulse 2 streams; batch is Pulse


def test_pulse2_is_english_only() -> None:
    with pytest.raises(ValueError, match="'hi'; allowed: en"):
        STT(api_key="sk_x", model="pulse-2", language="hi")
    engine = STT(api_key="sk_x", model="pulse-2")
    with pytest.raises(ValueError, match="allowed: en"):
        engine.update_options(language="de")
    assert engine.capabilities.streaming and engine.options.language == "en"
