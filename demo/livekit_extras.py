"""LiveKit Agents: the newer models' turns (see ``extras.py``).

Lightning v4 through ``LightningV4TTS.stream()`` (closing the stream mid-reply is the barge-in,
as an ``AgentSession`` does when the caller interrupts), Lightning v3.2 through
``TTS.synthesize(text, affect=...)``, Pulse 2 through ``STT(model="pulse-2").stream()``.
"""

from __future__ import annotations

import asyncio

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
    affect_fields,
    feed,
)
from livekit import rtc
from livekit.agents import stt, tts, utils
from replies import token_stream
from turn import Log

from smallest_livekit import STT, TTS, LightningV4TTS


def _pcm(event: tts.SynthesizedAudio) -> bytes:
    """The event's audio; nothing for LiveKit's synthetic 10 ms silence ending a segment."""
    frame = event.frame
    data = frame.data.tobytes()
    marker = frame.samples_per_channel == frame.sample_rate // 100 and not any(data)
    return b"" if event.is_final and marker else data


async def v4(server: Server, log: Log) -> V4Result:
    """The reply, cut after :data:`BARGE_IN_AFTER_S` of audio, then the follow-up."""
    result = V4Result()
    async with utils.http_context.open():
        engine = LightningV4TTS(
            api_key=server.api_key, base_url=server.base_url, sample_rate=SAMPLE_RATE
        )
        try:
            stream = engine.stream()

            async def feed() -> None:
                async for token in token_stream(V4_REPLY):
                    result.token()
                    stream.push_text(token)
                stream.end_input()

            feeder = asyncio.create_task(feed())
            try:
                async with asyncio.timeout(WAIT_S):
                    async for event in stream:
                        result.audio(_pcm(event))
                        if result.reply_s >= BARGE_IN_AFTER_S:
                            result.cut_at_s = result.reply_s
                            break
            finally:
                feeder.cancel()
                await asyncio.gather(feeder, return_exceptions=True)
                await stream.aclose()  # the barge-in: the session is told to interrupt
            log(f"v4: barged in at {result.reply_s:.2f} s of the reply's audio")
            async with engine.stream() as follow, asyncio.timeout(WAIT_S):
                follow.push_text(V4_FOLLOW_UP)
                follow.end_input()
                async for event in follow:
                    result.follow_up_pcm += _pcm(event)
            result.sessions_opened = engine.sessions_opened
        finally:
            await engine.aclose()
    return result


async def v32(server: Server, log: Log) -> list[Sentence]:
    """Each sentence synthesized with its own affect (``synthesize(text, affect=...)``)."""
    sentences = []
    async with utils.http_context.open():
        engine = TTS(
            api_key=server.api_key,
            base_url=server.base_url,
            model="lightning-v3.2",
            voice_id=server.v32_voice,
            sample_rate=SAMPLE_RATE,
        )
        try:
            for text, affect in V32_SENTENCES:
                pcm = bytearray()
                async with engine.synthesize(text, affect=affect) as speech:
                    async for event in speech:
                        pcm += _pcm(event)
                sentences.append(Sentence(text, affect_fields(affect), bytes(pcm)))
                log(f"v3.2: {text!r} with {affect_fields(affect)}")
        finally:
            await engine.aclose()
    return sentences


async def pulse2(server: Server, pcm: bytes, log: Log) -> Pulse2Result:
    """The main turn's audio and a second of silence, played into a Pulse 2 STT stream."""
    result = Pulse2Result()
    async with utils.http_context.open():
        listener = STT(api_key=server.api_key, base_url=server.base_url, model="pulse-2")
        stream = listener.stream()
        try:

            async def send(frame: bytes) -> None:
                stream.push_frame(rtc.AudioFrame(frame, SAMPLE_RATE, 1, len(frame) // 2))

            await feed(pcm, send, server.pace)
            stream.end_input()
            async with asyncio.timeout(WAIT_S):
                async for event in stream:
                    if event.type is stt.SpeechEventType.FINAL_TRANSCRIPT and event.alternatives:
                        alt = event.alternatives[0]
                        result.final(alt.text, alt.metadata)
            log(f"Pulse 2: {len(result.finals)} final(s)")
        finally:
            await stream.aclose()
            await listener.aclose()
    return result
