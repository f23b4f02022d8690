"""STT drivers: one utterance in, (finalize sent, final received) out, per framework."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from common import now

STT_RATE = 16000
FRAME_BYTES = STT_RATE // 50 * 2  # 20 ms of 16-bit mono, as a transport delivers it


@dataclass
class Heard:
    finalize_at: float = 0.0
    final_at: float = 0.0
    final_text: str = ""


def _frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


async def _paced(frames: list[bytes], realtime: bool) -> Any:
    t0 = now()
    for i, f in enumerate(frames):
        if realtime:
            delay = t0 + i * 0.02 - now()
            if delay > 0:
                await asyncio.sleep(delay)
        elif i % 10 == 9:
            await asyncio.sleep(0)
        yield f


class STTDriver:
    framework = ""
    impl = ""
    reason: str | None = None  # n/a reason

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = api_key

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        """Send one utterance; ``finalize``: ask for the final, else end the stream."""
        raise NotImplementedError


# ------------------------------------------------------------------------------ LiveKit
class _LiveKitSTT(STTDriver):
    framework = "livekit"

    def _make(self) -> Any:
        raise NotImplementedError

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        from livekit import rtc
        from livekit.agents import stt, utils

        heard = Heard()
        async with utils.http_context.open():
            engine = self._make()
            stream = engine.stream()

            async def send() -> None:
                async for f in _paced(_frames(pcm), realtime):
                    stream.push_frame(rtc.AudioFrame(f, STT_RATE, 1, len(f) // 2))
                heard.finalize_at = now()
                if finalize:
                    stream.flush()
                else:
                    stream.end_input()

            task = asyncio.ensure_future(send())
            try:
                async with asyncio.timeout(8):
                    async for ev in stream:
                        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                            text = ev.alternatives[0].text if ev.alternatives else ""
                            if text and not heard.final_at:
                                heard.final_at, heard.final_text = now(), text
                                if finalize:
                                    break
            except TimeoutError:
                pass
            finally:
                await task
                await stream.aclose()
                with contextlib.suppress(Exception):
                    await engine.aclose()
        return heard


class LiveKitOurs(_LiveKitSTT):
    impl = "ours"

    def _make(self) -> Any:
        from smallest_livekit import STT

        return STT(api_key=self.api_key, base_url=self.base_url, sample_rate=STT_RATE)


class LiveKitOfficial(_LiveKitSTT):
    impl = "official"

    def _make(self) -> Any:
        from livekit.plugins.smallestai import STT

        return STT(api_key=self.api_key, base_url=f"{self.base_url}/waves/v1", sample_rate=STT_RATE)


# ------------------------------------------------------------------------------ Pipecat
class _PipecatSTT(STTDriver):
    framework = "pipecat"

    def _make(self) -> Any:
        raise NotImplementedError

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        from pipecat.frames.frames import (
            InputAudioRawFrame,
            TranscriptionFrame,
            VADUserStartedSpeakingFrame,
            VADUserStoppedSpeakingFrame,
        )
        from pipecat_pipeline import Harness

        heard = Heard()
        h = Harness(self._make(), in_rate=STT_RATE, upstream=False)

        def final() -> bool:
            got = [s for s in h.down.timed(TranscriptionFrame) if s.frame.text]
            if got and not heard.final_at:
                heard.final_at, heard.final_text = got[0].at, got[0].frame.text
            return bool(got)

        async with h:
            await h.send(VADUserStartedSpeakingFrame())
            async for f in _paced(_frames(pcm), realtime):
                await h.send(InputAudioRawFrame(audio=f, sample_rate=STT_RATE, num_channels=1))
            heard.finalize_at = now()
            if finalize:
                await h.send(VADUserStoppedSpeakingFrame())
                with contextlib.suppress(TimeoutError):
                    await h.wait_for(final, within=8)
            else:
                with contextlib.suppress(TimeoutError):
                    await h.end(within=10)
                final()
        return heard


class PipecatOurs(_PipecatSTT):
    impl = "ours"

    def _make(self) -> Any:
        from smallest_pipecat import SmallestSTTService

        return SmallestSTTService(api_key=self.api_key, base_url=self.base_url)


class PipecatOfficial(_PipecatSTT):
    impl = "official"

    def _make(self) -> Any:
        from pipecat.services.smallest.stt import SmallestSTTService

        return SmallestSTTService(
            api_key=self.api_key, base_url=self.base_url.replace("http://", "ws://", 1)
        )


# ------------------------------------------------------------------------------ VideoSDK
class VideoSDKOurs(STTDriver):
    framework = "videosdk"
    impl = "ours"

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        from videosdk.agents import SpeechEventType

        from smallest_videosdk import SmallestAISTT

        heard = Heard()
        engine = SmallestAISTT(
            api_key=self.api_key,
            base_url=self.base_url,
            sample_rate=STT_RATE,
            input_sample_rate=STT_RATE,
            input_channels=1,
        )
        got = asyncio.Event()

        async def on_transcript(resp: Any) -> None:
            if resp.event_type == SpeechEventType.FINAL and resp.data and resp.data.text:
                if not heard.final_at:
                    heard.final_at, heard.final_text = now(), resp.data.text
                got.set()

        engine.on_stt_transcript(on_transcript)
        try:
            async for f in _paced(_frames(pcm), realtime):
                await engine.process_audio(f)
            heard.finalize_at = now()
            if finalize:
                await engine.flush()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(got.wait(), 8)
        finally:
            await engine.aclose()  # the end of the stream: close_stream, last final
        return heard


class VideoSDKOfficial(STTDriver):
    framework = "videosdk"
    impl = "official"
    reason = "videosdk-plugins-smallestai has no STT"


STT_DRIVERS: dict[str, tuple[type[STTDriver], type[STTDriver]]] = {
    "livekit": (LiveKitOurs, LiveKitOfficial),
    "pipecat": (PipecatOurs, PipecatOfficial),
    "videosdk": (VideoSDKOurs, VideoSDKOfficial),
}
