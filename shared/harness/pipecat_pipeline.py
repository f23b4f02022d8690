"""A real running Pipecat pipeline ``[up, *processors, down]`` for tests and benchmarks.

One harness for the Pipecat package tests, the conformance driver and the benchmark
drivers: recorders timestamp every frame on arrival, waits are event-driven (no polling
sleeps) and bounded. Lookups are indexed by frame type and audio bytes are kept as a running
total, so a predicate costs the same on the 10th frame as on the 10,000th.

Import it with ``shared/harness`` on ``sys.path`` (the conftests and drivers do that).
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
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


@dataclass(slots=True)
class Seen:
    """A frame and the monotonic time it reached the recorder."""

    at: float
    frame: Frame


class Recorder(FrameProcessor):
    """Records the frames travelling in one direction and passes everything on."""

    def __init__(self, direction: FrameDirection) -> None:
        super().__init__(enable_direct_mode=True)
        self._direction = direction
        self.changed = asyncio.Event()
        self.clear()

    def clear(self) -> None:
        """Forget what was recorded (a long run stays linear)."""
        self.seen: list[Seen] = []
        self._by_type: dict[type, list[int]] = {}
        self._audio_total: list[int] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == self._direction and not isinstance(frame, StartFrame):
            self._by_type.setdefault(type(frame), []).append(len(self.seen))
            self.seen.append(Seen(time.monotonic(), frame))
            audio = len(frame.audio) if isinstance(frame, TTSAudioRawFrame) else 0
            self._audio_total.append((self._audio_total[-1] if self._audio_total else 0) + audio)
            self.changed.set()
        await self.push_frame(frame, direction)

    def timed(self, kind: type[Any], start: int = 0) -> list[Seen]:
        """Recorded ``kind`` frames (subclasses too) from index ``start`` on, in order."""
        hits: list[int] = []
        for typ, indexes in self._by_type.items():
            if issubclass(typ, kind):
                hits.extend(indexes[bisect_left(indexes, start) :])
        return [self.seen[i] for i in sorted(hits)]

    def of(self, kind: type[Any], start: int = 0) -> list[Any]:
        """The ``kind`` frames themselves."""
        return [s.frame for s in self.timed(kind, start)]

    def frames_since(self, start: int) -> list[Frame]:
        """Every frame recorded from index ``start`` on."""
        return [s.frame for s in self.seen[start:]]

    def audio_bytes_since(self, start: int) -> int:
        """Bytes of TTS audio recorded from index ``start`` on."""
        if not self._audio_total or start >= len(self._audio_total):
            return 0
        return self._audio_total[-1] - (self._audio_total[start - 1] if start else 0)


class Harness:
    """``async with Harness(service) as h``: a running pipeline with recorders around it.

    ``upstream=False`` leaves out the upstream recorder (errors then go unrecorded), for
    measurements where every processor a frame crosses counts.
    """

    def __init__(
        self,
        *processors: FrameProcessor,
        out_rate: int = 24000,
        in_rate: int = 16000,
        upstream: bool = True,
    ) -> None:
        self.up = Recorder(FrameDirection.UPSTREAM)
        self.down = Recorder(FrameDirection.DOWNSTREAM)
        chain = [self.up, *processors, self.down] if upstream else [*processors, self.down]
        self._recorders = [self.up, self.down] if upstream else [self.down]
        self.worker = PipelineWorker(
            Pipeline(chain),
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

    async def end(self, within: float = 30) -> None:
        """Send EndFrame and wait until the pipeline has drained and stopped."""
        await self.worker.queue_frame(EndFrame())
        assert self._run is not None
        await asyncio.wait_for(asyncio.shield(self._run), within)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 15) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever a frame is recorded;
        ``TimeoutError`` after ``within`` seconds."""
        async with asyncio.timeout(within):
            while not predicate():
                for recorder in self._recorders:
                    recorder.changed.clear()
                waiters = [asyncio.ensure_future(r.changed.wait()) for r in self._recorders]
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waiters:
                        w.cancel()
                    await asyncio.gather(*waiters, return_exceptions=True)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        """:meth:`wait_for` that answers False instead of raising when time runs out."""
        try:
            await self.wait_for(predicate, within)
        except TimeoutError:
            return False
        return True

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
