"""Text → SmallestTTSService → WAV file → SmallestSTTService → transcript, in Pipecat.

Offline (default): an in-process Smallest emulator answers; with its ``speech`` extra
installed (``pip install 'smallest-emulator[speech]'``) it speaks with espeak-ng and listens
with pocketsphinx, otherwise the WAV holds its test tone (not speech). With SMALLEST_API_KEY
set (and SMALLEST_BASE_URL unset) the real API is used.

    python examples/pipecat/roundtrip.py "Hello from Smallest AI." --out demo-out/hello.wav
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transcriptions.language import Language
from pipecat.workers.runner import WorkerRunner

from smallest_pipecat import SmallestSTTService, SmallestTTSService

RATE = 24000


class Collect(FrameProcessor):
    """Keeps the frames of the given types that reach the end of the pipeline."""

    def __init__(self, *kinds: type[Frame]) -> None:
        super().__init__()
        self.kinds = kinds
        self.frames: list[Frame] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, self.kinds):
            self.frames.append(frame)
        await self.push_frame(frame, direction)


async def run(service: FrameProcessor, frames: list[Frame], *kinds: type[Frame]) -> list[Any]:
    sink = Collect(*kinds)
    worker = PipelineWorker(
        Pipeline([service, sink]),
        cancel_on_idle_timeout=False,
        params=PipelineParams(audio_in_sample_rate=RATE, audio_out_sample_rate=RATE),
    )
    await worker.queue_frames([*frames, EndFrame()])
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await asyncio.wait_for(runner.run(), 60)
    return sink.frames


def real_speech() -> bool:
    """True when the emulator's ``speech`` extra (espeak-ng, pocketsphinx) is installed."""
    return all(importlib.util.find_spec(m) for m in ("espeakng_loader", "pocketsphinx"))


@contextlib.asynccontextmanager
async def api_root(text: str) -> AsyncIterator[tuple[str | None, str]]:
    """(API root, what the audio is): the real API (key in the environment) or an emulator."""
    if os.environ.get("SMALLEST_API_KEY") and not os.environ.get("SMALLEST_BASE_URL"):
        print("Using the Smallest AI API")
        yield None, "Lightning speech"
        return
    from smallest_emulator import Emulator, EmulatorConfig

    config = EmulatorConfig(speed=10.0, complete_backoff_ms=0)
    sound = "the emulator's test tone, not speech"
    if real_speech():
        # espeak-ng speaks; pocketsphinx listens for this text (a one-phrase grammar).
        config = config.copy(engine="espeak", stt_engine="pocketsphinx", transcript=(text,))
        sound = "espeak-ng speech"
        print("Offline: in-process emulator speaking with espeak-ng, listening with pocketsphinx")
    else:
        print(
            "Offline: in-process emulator without its speech extra - the WAV will hold its test\n"
            "tone (a loud 12 kHz buzz that encodes the text), not speech; for real speech:\n"
            "  pip install 'smallest-emulator[speech]'"
        )
    async with Emulator(config) as emu:
        yield emu.base_url, sound


async def main(text: str, out: Path) -> str:
    async with api_root(text) as (base_url, sound):
        tts = SmallestTTSService(
            base_url=base_url,
            settings=SmallestTTSService.Settings(voice="sophia", language=Language.EN),
        )
        audio = await run(tts, [TTSSpeakFrame(text)], TTSAudioRawFrame)
        pcm = b"".join(f.audio for f in audio)
        out.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(pcm)
        print(f"wrote {out} ({len(pcm) / 2 / RATE:.2f} s of {sound})")

        with wave.open(str(out), "rb") as wav:
            recorded = wav.readframes(wav.getnframes())
        step = RATE * 2 // 50  # 20 ms frames, as a transport would deliver them
        chunks: list[Frame] = [
            InputAudioRawFrame(recorded[i : i + step], RATE, 1)
            for i in range(0, len(recorded), step)
        ]
        stt = SmallestSTTService(
            base_url=base_url, settings=SmallestSTTService.Settings(language=Language.EN)
        )
        finals = await run(stt, chunks, TranscriptionFrame)
        transcript = " ".join(f.text for f in finals)
        print(f"transcript: {transcript}")
        return transcript


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "text", nargs="?", default="Hello from Smallest AI, speaking through a pipeline."
    )
    parser.add_argument("--out", type=Path, default=Path("demo-out/pipecat-roundtrip.wav"))
    args = parser.parse_args()
    transcript = asyncio.run(main(args.text, args.out))
    sys.exit(0 if transcript else 1)
