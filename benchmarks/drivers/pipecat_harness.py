"""A running Pipecat pipeline ``[service, recorder]`` whose frames are timestamped on arrival."""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from common import now
from pipecat.frames.frames import Frame, StartFrame, TTSAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner


class Recorder(FrameProcessor):
    """Records downstream frames (time, frame) and wakes waiters.

    Lookups are indexed by frame type and audio bytes kept as a running total, so a
    waiter's predicate costs the same on the 10th frame as on the 10,000th (a scan per
    frame made the harness itself quadratic and inflated the CPU numbers).
    """

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)
        self.seen: list[tuple[float, Frame]] = []
        self.errors: list[Frame] = []
        self.changed = asyncio.Event()
        self._by_type: dict[type, list[int]] = {}
        self._audio_total: list[int] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == FrameDirection.DOWNSTREAM and not isinstance(frame, StartFrame):
            self._by_type.setdefault(type(frame), []).append(len(self.seen))
            self.seen.append((now(), frame))
            audio = len(frame.audio) if isinstance(frame, TTSAudioRawFrame) else 0
            self._audio_total.append((self._audio_total[-1] if self._audio_total else 0) + audio)
            self.changed.set()
        await self.push_frame(frame, direction)

    def of(self, kind: type[Any], start: int = 0) -> list[tuple[float, Any]]:
        hits: list[int] = []
        for typ, indexes in self._by_type.items():
            if issubclass(typ, kind):
                hits.extend(indexes[bisect_left(indexes, start) :])
        return [self.seen[i] for i in sorted(hits)]

    def audio_bytes_since(self, start: int) -> int:
        """Bytes of TTS audio recorded from index ``start`` on."""
        if not self._audio_total or start >= len(self._audio_total):
            return 0
        return self._audio_total[-1] - (self._audio_total[start - 1] if start else 0)


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
