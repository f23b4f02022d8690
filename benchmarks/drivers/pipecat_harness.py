"""A running Pipecat pipeline ``[service, recorder]`` whose frames are timestamped on arrival."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from common import now
from pipecat.frames.frames import Frame, StartFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner


class Recorder(FrameProcessor):
    """Records downstream frames (time, frame) and wakes waiters."""

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)
        self.seen: list[tuple[float, Frame]] = []
        self.errors: list[Frame] = []
        self.changed = asyncio.Event()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM and not isinstance(frame, StartFrame):
            self.seen.append((now(), frame))
            self.changed.set()
        await self.push_frame(frame, direction)

    def of(self, kind: type[Any], start: int = 0) -> list[tuple[float, Any]]:
        return [(t, f) for t, f in self.seen[start:] if isinstance(f, kind)]


class Harness:
    """``async with Harness(service)``: a running pipeline; send frames, await predicates."""

    def __init__(self, *processors: FrameProcessor, out_rate: int = 24000, in_rate: int = 16000):
        self.down = Recorder()
        self.worker = PipelineWorker(
            Pipeline([*processors, self.down]),
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
        await asyncio.wait_for(self._started.wait(), 15)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._run is not None and not self._run.done():
            await self.worker.cancel()
            await asyncio.wait_for(self._run, 15)

    async def send(self, *frames: Frame) -> None:
        for frame in frames:
            await self.worker.queue_frame(frame)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 30) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                self.down.changed.clear()
                await self.down.changed.wait()
