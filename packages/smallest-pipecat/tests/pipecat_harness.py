"""Drive real Pipecat pipelines against the emulator, with frames timestamped on arrival."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipecat.frames.frames import (
    EndFrame,
    ErrorFrame,
    Frame,
    StartFrame,
    TTSAudioRawFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner


@dataclass
class Seen:
    """A frame and the monotonic time it arrived at the recorder."""

    at: float
    frame: Frame


class Recorder(FrameProcessor):
    """Records the frames travelling in one direction and passes everything on."""

    def __init__(self, direction: FrameDirection) -> None:
        super().__init__(enable_direct_mode=True)
        self._direction = direction
        self.seen: list[Seen] = []
        self.changed = asyncio.Event()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == self._direction and not isinstance(frame, StartFrame):
            self.seen.append(Seen(time.monotonic(), frame))
            self.changed.set()
        await self.push_frame(frame, direction)

    def of(self, kind: type[Any]) -> list[Any]:
        return [s.frame for s in self.seen if isinstance(s.frame, kind)]


class Harness:
    """``async with Harness(service) as h``: a running pipeline ``[up, service, down]``."""

    def __init__(self, *processors: FrameProcessor, out_rate: int = 24000, in_rate: int = 16000):
        self.up = Recorder(FrameDirection.UPSTREAM)
        self.down = Recorder(FrameDirection.DOWNSTREAM)
        self.worker = PipelineWorker(
            Pipeline([self.up, *processors, self.down]),
            cancel_on_idle_timeout=False,
            params=PipelineParams(audio_out_sample_rate=out_rate, audio_in_sample_rate=in_rate),
        )
        self._started = asyncio.Event()
        self._run: asyncio.Task[None] | None = None

        async def _started(worker: Any, frame: Any) -> None:
            self._started.set()

        self.worker.add_event_handler("on_pipeline_started", _started)

    async def __aenter__(self) -> Harness:
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(self.worker)
        self._run = asyncio.ensure_future(runner.run())
        await asyncio.wait_for(self._started.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._run is not None and not self._run.done():
            await self.worker.cancel()
            await asyncio.wait_for(self._run, 10)

    async def send(self, *frames: Frame) -> None:
        for frame in frames:
            await self.worker.queue_frame(frame)

    async def end(self, within: float = 30) -> None:
        """Send EndFrame and wait until the pipeline has drained and stopped."""
        await self.worker.queue_frame(EndFrame())
        assert self._run is not None
        await asyncio.wait_for(self._run, within)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 15) -> None:
        """Wait (on recorder events, no polling sleeps) until ``predicate()`` holds."""
        async with asyncio.timeout(within):
            while not predicate():
                self.down.changed.clear()
                self.up.changed.clear()
                waiters = [
                    asyncio.ensure_future(self.down.changed.wait()),
                    asyncio.ensure_future(self.up.changed.wait()),
                ]
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waiters:
                        w.cancel()
                    await asyncio.gather(*waiters, return_exceptions=True)

    # ---------------------------------------------------------------- views
    def audio(self, context_id: str | None = None) -> bytes:
        return b"".join(
            f.audio
            for f in self.down.of(TTSAudioRawFrame)
            if context_id is None or f.context_id == context_id
        )

    def stops(self) -> list[TTSStoppedFrame]:
        return self.down.of(TTSStoppedFrame)

    def errors(self) -> list[ErrorFrame]:
        return self.up.of(ErrorFrame)

    def words(self) -> list[TTSTextFrame]:
        return self.down.of(TTSTextFrame)

    def context_ids(self) -> list[str]:
        ids: list[str] = []
        for f in self.down.of(TTSAudioRawFrame):
            if f.context_id not in ids:
                ids.append(f.context_id)
        return ids
