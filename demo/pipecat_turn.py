"""Pipecat: ``SmallestTTSService`` played into ``SmallestSTTService``, each in a running pipeline.

LLM text frames go into a pipeline ``[tts, recorder]`` the way an LLM service emits them
(``LLMFullResponseStartFrame``, ``LLMTextFrame``s, ``LLMFullResponseEndFrame``); the audio, as
it plays, goes as ``InputAudioRawFrame``s into a second pipeline ``[stt, recorder]``. Error
frames either pipeline reports fail the turn.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from loguru import logger

logger.remove()  # Pipecat logs every frame at DEBUG: keep the demo's output readable
logger.add(sys.stderr, level="WARNING")

from pipecat.frames.frames import (  # noqa: E402
    EndFrame,
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.transcriptions.language import Language  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402
from playback import playing  # noqa: E402
from replies import token_stream  # noqa: E402
from turn import Log, Turn, Word  # noqa: E402

from smallest_pipecat import SmallestSTTService, SmallestTTSService  # noqa: E402


class Tap(FrameProcessor):
    """Calls ``on_frame`` for every downstream frame and passes it on."""

    def __init__(self, on_frame: Callable[[Frame], None]) -> None:
        super().__init__()
        self._on_frame = on_frame

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM:
            self._on_frame(frame)
        await self.push_frame(frame, direction)


class Running:
    """``async with Running(processors, turn) as worker``: a started pipeline; ends on exit.

    Every ``ErrorFrame`` the pipeline reports is recorded as an error of ``turn``.
    """

    def __init__(self, processors: list[FrameProcessor], turn: Turn) -> None:
        rate = turn.sample_rate
        self.worker = PipelineWorker(
            Pipeline(processors),
            cancel_on_idle_timeout=False,
            params=PipelineParams(audio_in_sample_rate=rate, audio_out_sample_rate=rate),
        )
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

        async def started(worker: object, frame: object) -> None:
            self._started.set()

        async def failed(worker: object, frame: ErrorFrame) -> None:
            turn.error(str(frame.error))

        self.worker.add_event_handler("on_pipeline_started", started)
        self.worker.add_event_handler("on_pipeline_error", failed)

    async def __aenter__(self) -> PipelineWorker:
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(self.worker)
        self._task = asyncio.ensure_future(runner.run())
        await asyncio.wait_for(self._started.wait(), 10)
        return self.worker

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        if exc[0] is None:
            await self.worker.queue_frame(EndFrame())  # drains the pipeline, then stops
            await asyncio.wait_for(self._task, 60)
        else:
            await self.worker.cancel()
            await asyncio.wait_for(self._task, 10)


async def run(turn: Turn, base_url: str | None, api_key: str | None, log: Log) -> None:
    """Speak ``turn.reply`` into the STT as it plays, recording everything in ``turn``."""
    stt = SmallestSTTService(
        api_key=api_key,
        base_url=base_url,
        settings=SmallestSTTService.Settings(language=Language.EN),
    )

    def on_frame(frame: Frame) -> None:
        if isinstance(frame, TranscriptionFrame):
            turn.final(frame.text)
            log(f"STT final: {frame.text!r}")

    async with Running([stt, Tap(on_frame)], turn) as listener:

        async def send(audio: bytes) -> None:
            await listener.queue_frame(InputAudioRawFrame(audio, turn.sample_rate, 1))

        async with playing(turn, send, log):
            await _speak(turn, base_url, api_key, log)
        turn.raise_errors()
    turn.raise_errors()


async def _speak(turn: Turn, base_url: str | None, api_key: str | None, log: Log) -> None:
    tts = SmallestTTSService(
        api_key=api_key,
        base_url=base_url,
        sample_rate=turn.sample_rate,
        settings=SmallestTTSService.Settings(language=Language.EN),
    )
    first_pts: list[int] = []

    def on_frame(frame: Frame) -> None:
        if isinstance(frame, TTSAudioRawFrame):
            if not turn.pcm:
                log(f"first audio {turn.now() * 1000:.0f} ms after the first token")
            turn.audio(frame.audio)
        elif isinstance(frame, TTSTextFrame) and frame.pts is not None:
            first_pts[:1] = first_pts[:1] or [frame.pts]
            turn.words.append(Word(frame.text.strip(), (frame.pts - first_pts[0]) / 1e9))
        elif isinstance(frame, TTSStoppedFrame):
            turn.mark("end of context")

    async with Running([tts, Tap(on_frame)], turn) as worker:
        await worker.queue_frame(LLMFullResponseStartFrame())
        async for token in token_stream(turn.reply):
            turn.token()
            await worker.queue_frame(LLMTextFrame(token))
        await worker.queue_frame(LLMFullResponseEndFrame())
    turn.raise_errors()
    turn.mark("end of context")
    log(f"all audio received: {turn.audio_seconds:.2f} s, {len(turn.words)} timed words")
