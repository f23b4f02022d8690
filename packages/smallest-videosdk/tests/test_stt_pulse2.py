"""SmallestAISTT(model="pulse-2"): emotion and gender on finals, END at Pulse 2's end of turn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from videosdk.agents import SpeechEventType, audio_format
from videosdk_hostile import Tiny
from videosdk_kit import bounded, make_stt, wait_for
from videosdk_stt_kit import Collector, feed, silence, speech

from smallest_emulator import Emulator
from smallest_videosdk import SmallestAISTT


async def test_finals_carry_emotion_and_gender_and_the_turn_end_is_end_of_speech(
    emu: Emulator,
) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(
        emu, model="pulse-2", eou_timeout_ms=300, overrides={"transcript": "good morning"}
    )
    got = Collector(stt)
    await feed(stt, speech(0.8, 16000) + silence(0.6, 16000), 16000)
    await got.until_finals(1)
    await bounded(wait_for(lambda: got.kinds()[-1] is SpeechEventType.END))
    await bounded(stt.aclose())
    record = emu.stt_log[0]
    assert record.params["model"] == "pulse-2"
    sent = next(f for f in record.transcripts if f["is_final"] and f["transcript"])
    final = got.finals()[0]
    assert final.data.text == "good morning"
    meta = final.metadata
    assert meta is not None
    assert meta["end_of_turn"] is True
    assert meta["emotions"] == sent["emotions"] and meta["gender"] == sent["gender"]
    assert meta["emotion"] == max(sent["emotions"], key=sent["emotions"].get)
    assert [w["word"] for w in meta["words"]] == ["good", "morning"]
    kinds = got.kinds()
    assert kinds[0] is SpeechEventType.START
    assert kinds[kinds.index(SpeechEventType.FINAL) + 1] is SpeechEventType.END
    assert got.errors == []


async def test_a_final_that_does_not_end_the_turn_does_not_end_speech() -> None:
    """A scripted Pulse 2 server: two finals, only the second ends the turn."""
    seen: dict[str, Any] = {}

    async def handler(tiny: Tiny, request: web.Request) -> web.StreamResponse:
        seen["query"] = dict(request.query)
        seen["headers"] = dict(request.headers)
        ws, _ = await tiny.accept(request)
        await ws.receive()  # the first audio
        for text, end in (("I would like", False), ("a refund please", True)):
            frame = {"type": "transcription", "transcript": text, "is_final": True}
            await ws.send_str(json.dumps({**frame, "speech_final": end, "gender": "female"}))
        async for msg in ws:
            if msg.type is web.WSMsgType.TEXT and "close_stream" in msg.data:
                await ws.send_str(json.dumps({"transcript": "", "is_final": True, "is_last": True}))
                break
        await ws.close()
        return ws

    audio_format.publish(16000, 1)
    async with Tiny(handler) as server:
        stt = SmallestAISTT(
            base_url=server.url, model="pulse-2", session_id="call-42.a_b", expire_content=True
        )
        got = Collector(stt)
        await feed(stt, speech(0.2, 16000), 16000)
        await got.until_finals(2)
        await bounded(stt.aclose())
    kinds = got.kinds()
    assert kinds == [
        SpeechEventType.START,
        SpeechEventType.FINAL,
        SpeechEventType.FINAL,
        SpeechEventType.END,
    ]
    ends = [f.metadata["end_of_turn"] for f in got.finals() if f.metadata]
    assert ends == [False, True]
    assert got.finals()[0].metadata is not None
    assert got.finals()[0].metadata["gender"] == "female"
    assert seen["query"]["model"] == "pulse-2"
    assert seen["query"]["external_session_id"] == "call-42.a_b"
    assert seen["headers"]["x-expire-content"] == "true"


async def test_pulse_keeps_its_finals_unchanged(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, eou_timeout_ms=300, overrides={"transcript": "good morning"})
    got = Collector(stt)
    await feed(stt, speech(0.8, 16000) + silence(0.6, 16000), 16000)
    await got.until_finals(1)
    await bounded(stt.aclose())
    meta = got.finals()[0].metadata
    assert meta is not None and "emotion" not in meta and "end_of_turn" not in meta
    assert emu.stt_log[0].params["model"] == "pulse"


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"model": "pulse-2", "language": "hi"}, "STT language for pulse-2"),
        ({"model": "pulse-pro"}, "pulse, pulse-2"),
        ({"model": "nova"}, "pulse, pulse-2"),
        ({"session_id": "has space"}, "session_id"),
        ({"session_id": "x" * 129}, "session_id"),
    ],
)
def test_bad_pulse_2_options_fail_at_construction(kw: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        SmallestAISTT(api_key="sk_x", **kw)
