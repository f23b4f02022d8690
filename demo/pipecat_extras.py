"""Pipecat: the newer models' turns (see ``extras.py``), each in a running pipeline.

Lightning v4 through ``SmallestLightningV4TTSService`` (the barge-in is an
``InterruptionFrame``, as the user aggregator pushes when the caller starts talking),
Lightning v3.2 through ``SmallestHttpTTSService`` with a ``TTSUpdateSettingsFrame`` before each
sentence, Pulse 2 through ``SmallestSTTService(settings=Settings(model="pulse-2"))``.
"""

from __future__ import annotations

import asyncio
from functools import partial

from extras import (
    BARGE_IN_AFTER_S,
    SAMPLE_RATE,
    V4_FOLLOW_UP,
    V4_REPLY,
    V32_SENTENCES,
    Pulse2Result,
    Sentence,
    Server,
    V4Result,
    Watch,
    affect_fields,
    feed,
)
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSUpdateSettingsFrame,
)
from pipecat.transcriptions.language import Language
from pipecat_turn import Running, Tap
from replies import token_stream
from turn import Log, Turn

from smallest_pipecat import (
    SmallestHttpTTSService,
    SmallestLightningV4TTSService,
    SmallestSTTService,
)


class Sink(Turn):
    """Collects the pipeline's error frames for ``Running``, waking ``watch`` at each."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(framework="Pipecat", reply="", sample_rate=SAMPLE_RATE)
        self.watch = watch

    def error(self, message: str) -> None:
        super().error(message)
        self.watch.poke()


async def v4(server: Server, log: Log) -> V4Result:
    """The reply, interrupted after :data:`BARGE_IN_AFTER_S` of audio, then the follow-up."""
    result = V4Result()
    watch = Watch()
    sink = Sink(watch)
    tts = SmallestLightningV4TTSService(
        api_key=server.api_key, base_url=server.base_url, sample_rate=SAMPLE_RATE
    )
    interrupted: list[InterruptionFrame] = []  # once the interruption has passed the TTS
    reply_contexts: set[str | None] = set()

    def on_frame(frame: Frame) -> None:
        if isinstance(frame, InterruptionFrame):
            interrupted.append(frame)
        elif isinstance(frame, TTSAudioRawFrame):
            if not interrupted:
                result.audio(frame.audio)
                reply_contexts.add(frame.context_id)
            elif frame.context_id in reply_contexts:
                result.stale_after_cut += 1
            else:
                result.follow_up_pcm += frame.audio
        watch.poke()

    async with Running([tts, Tap(on_frame)], sink) as worker:

        async def llm() -> None:
            await worker.queue_frame(LLMFullResponseStartFrame())
            async for token in token_stream(V4_REPLY):
                result.token()
                await worker.queue_frame(LLMTextFrame(token))

        feeder = asyncio.create_task(llm())
        try:
            await watch.until(
                lambda: result.reply_s >= BARGE_IN_AFTER_S or bool(sink.errors), "the reply's audio"
            )
        finally:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)
        sink.raise_errors()
        result.cut_at_s = result.reply_s
        await worker.queue_frame(InterruptionFrame())
        await watch.until(lambda: bool(interrupted), "the interruption reaching the output")
        log(f"v4: barged in at {result.cut_at_s:.2f} s of the reply's audio")
        await worker.queue_frame(TTSSpeakFrame(V4_FOLLOW_UP))
    sink.raise_errors()
    result.sessions_opened = tts.connections_opened
    return result


async def v32(server: Server, log: Log) -> list[Sentence]:
    """Each sentence after a ``TTSUpdateSettingsFrame`` carrying its affect."""
    Settings = SmallestHttpTTSService.Settings
    watch = Watch()
    sink = Sink(watch)
    tts = SmallestHttpTTSService(
        api_key=server.api_key,
        base_url=server.base_url,
        sample_rate=SAMPLE_RATE,
        settings=Settings(model="lightning-v3.2", voice=server.v32_voice, language=Language.EN),
    )
    audio: list[bytearray] = []

    def on_frame(frame: Frame) -> None:
        if isinstance(frame, TTSAudioRawFrame) and audio:
            audio[-1] += frame.audio
        elif isinstance(frame, TTSStoppedFrame):
            stopped.append(frame)
            watch.poke()

    stopped: list[Frame] = []
    sentences = []
    async with Running([tts, Tap(on_frame)], sink) as worker:
        for text, affect in V32_SENTENCES:
            audio.append(bytearray())
            fields = affect_fields(affect)
            await worker.queue_frame(TTSUpdateSettingsFrame(delta=Settings(**fields)))  # type: ignore[arg-type]
            await worker.queue_frame(TTSSpeakFrame(text))
            await watch.until(
                partial(lambda n: len(stopped) >= n or bool(sink.errors), len(audio)),
                f"the end of {text!r}",
            )
            sink.raise_errors()
            sentences.append(Sentence(text, fields, bytes(audio[-1])))
            log(f"v3.2: {text!r} with {fields}")
    sink.raise_errors()
    return sentences


async def pulse2(server: Server, pcm: bytes, log: Log) -> Pulse2Result:
    """The main turn's audio and a second of silence, played into a Pulse 2 STT service."""
    result = Pulse2Result()
    sink = Sink(Watch())
    stt = SmallestSTTService(
        api_key=server.api_key,
        base_url=server.base_url,
        settings=SmallestSTTService.Settings(model="pulse-2", language=Language.EN),
    )

    def on_frame(frame: Frame) -> None:
        if isinstance(frame, TranscriptionFrame):
            result.final(frame.text, getattr(frame, "metadata", None))

    async with Running([stt, Tap(on_frame)], sink) as worker:

        async def send(frame: bytes) -> None:
            await worker.queue_frame(InputAudioRawFrame(frame, SAMPLE_RATE, 1))

        await feed(pcm, send, server.pace)
    sink.raise_errors()
    log(f"Pulse 2: {len(result.finals)} final(s)")
    return result
