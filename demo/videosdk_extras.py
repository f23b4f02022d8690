"""VideoSDK Agents: the newer models' turns (see ``extras.py``).

Lightning v4 through ``SmallestAITTSV4.synthesize()`` onto a track (the barge-in is
``interrupt()``, as the pipeline calls it when the caller starts talking), Lightning v3.2
through ``SmallestAITTS`` with ``set_affect()`` before each sentence, Pulse 2 through
``SmallestAISTT(model="pulse-2").process_audio()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from extras import (
    BARGE_IN_AFTER_S,
    SAMPLE_RATE,
    V4_FOLLOW_UP,
    V4_REPLY,
    V32_SENTENCES,
    WAIT_S,
    Pulse2Result,
    Sentence,
    Server,
    V4Result,
    Watch,
    affect_fields,
    feed,
)
from replies import token_stream
from turn import Log, TurnFailed
from videosdk.agents import FlushMarker, STTResponse, audio_format

from smallest_videosdk import SmallestAISTT, SmallestAITTS, SmallestAITTSV4


class Track:
    """The agent's 24 kHz output track: hands each push to ``sink``, counts interruptions."""

    sample_rate = SAMPLE_RATE

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        self.sink = sink
        self.interrupts = 0

    async def add_new_bytes(self, audio_data: bytes) -> None:
        self.sink(audio_data)

    def interrupt(self) -> None:
        self.interrupts += 1


def _errors(service: SmallestAITTS | SmallestAITTSV4 | SmallestAISTT) -> list[str]:
    errors: list[str] = []
    service.on("error", lambda message: errors.append(str(message)))
    return errors


def _raise(errors: list[str]) -> None:
    if errors:
        raise TurnFailed("; ".join(errors))


async def v4(server: Server, log: Log) -> V4Result:
    """The reply, interrupted after :data:`BARGE_IN_AFTER_S` of audio, then the follow-up."""
    result = V4Result()
    watch = Watch()
    phase = ["reply"]

    def sink(data: bytes) -> None:
        if phase[0] == "reply":
            result.audio(data)
        elif phase[0] == "cut":
            result.stale_after_cut += 1
        else:
            result.follow_up_pcm += data
        watch.poke()

    tts = SmallestAITTSV4(api_key=server.api_key, base_url=server.base_url, sample_rate=SAMPLE_RATE)
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = Track(sink)
    errors = _errors(tts)

    async def llm() -> AsyncIterator[str | FlushMarker]:
        async for token in token_stream(V4_REPLY):
            result.token()
            yield token
        yield FlushMarker()

    try:
        speaking = asyncio.create_task(tts.synthesize(llm()))
        speaking.add_done_callback(watch.poke)
        try:
            await watch.until(
                lambda: result.reply_s >= BARGE_IN_AFTER_S or speaking.done(), "the reply's audio"
            )
            if not speaking.done():
                result.cut_at_s = result.reply_s
                phase[0] = "cut"
                await asyncio.wait_for(tts.interrupt(), WAIT_S)
                log(f"v4: barged in at {result.cut_at_s:.2f} s of the reply's audio")
            await asyncio.wait_for(speaking, WAIT_S)
        finally:
            speaking.cancel()
            await asyncio.gather(speaking, return_exceptions=True)
        _raise(errors)
        phase[0] = "follow-up"
        await asyncio.wait_for(tts.synthesize(V4_FOLLOW_UP), WAIT_S)
        _raise(errors)
    finally:
        await tts.aclose()
    return result


async def v32(server: Server, log: Log) -> list[Sentence]:
    """Each sentence after ``set_affect()`` with its affect."""
    audio = bytearray()
    tts = SmallestAITTS(
        api_key=server.api_key,
        base_url=server.base_url,
        model="lightning_v3.2",
        voice_id=server.v32_voice,
    )
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = Track(audio.extend)
    errors = _errors(tts)
    sentences = []
    try:
        for text, affect in V32_SENTENCES:
            before = len(audio)
            tts.set_affect(affect)
            await asyncio.wait_for(tts.synthesize(text), WAIT_S)
            _raise(errors)
            sentences.append(Sentence(text, affect_fields(affect), bytes(audio[before:])))
            log(f"v3.2: {text!r} with {affect_fields(affect)}")
    finally:
        await tts.aclose()
    return sentences


async def pulse2(server: Server, pcm: bytes, log: Log) -> Pulse2Result:
    """The main turn's audio and a second of silence, played into a Pulse 2 STT."""
    result = Pulse2Result()
    audio_format.publish(SAMPLE_RATE, 1)  # what the room's input stream reports
    stt = SmallestAISTT(api_key=server.api_key, base_url=server.base_url, model="pulse-2")
    errors = _errors(stt)

    async def on_transcript(response: STTResponse) -> None:
        if response.event_type.value == "final_transcript":
            result.final(response.data.text, response.metadata)

    stt.on_stt_transcript(on_transcript)
    try:
        await feed(pcm, stt.process_audio, server.pace)
    finally:
        await stt.aclose()  # close_stream: the last final is delivered before this returns
    _raise(errors)
    log(f"Pulse 2: {len(result.finals)} final(s)")
    return result
